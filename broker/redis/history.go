package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/redis/rueidis"
)

// HistoryOptions configures a History.
type HistoryOptions struct {
	// Policies decide which topics keep a history and how much; required
	// (see broker.HistoryPolicies.Validate).
	Policies broker.HistoryPolicies
	// Prefix is prepended to every key the history uses; empty means
	// "graft:ws:h:". Give each app sharing a Redis its own.
	Prefix string
}

// History is a broker.History in Redis Streams, shared by every node that
// uses the same Redis and Prefix. Make one with NewHistory.
//
// Each topic has two keys with the same hash tag (so they live on one slot
// of a Redis Cluster): a hash holding the stream's epoch and last offset,
// and a stream whose entry ids are "<offset>-1". Append runs one Lua script
// that increments the offset and adds the entry, so offset assignment and
// append are atomic across nodes; XADD's MAXLEN keeps Size entries, and
// with a TTL the stream key expires TTL after its newest entry while Since
// treats entries older than the TTL as trimmed. The epoch is set once, by
// the first script that finds the hash missing, and set anew (with the
// stream deleted) whenever the hash is found missing again: after a Redis
// restart without persistence, or an eviction, every epoch changes. With
// persistence (AOF or RDB) the history survives as far as Redis keeps it.
// The hash has no expiry, so a quiet topic keeps its offset and epoch.
type History struct {
	c        rueidis.Client
	prefix   string
	policies broker.HistoryPolicies
}

var _ broker.History = (*History)(nil)

// NewHistory returns a History that stores in Redis through c, which
// stays the caller's to close. It fails if a policy is invalid.
func NewHistory(c rueidis.Client, opts HistoryOptions) (*History, error) {
	if c == nil {
		return nil, errors.New("graft/broker/redis: NewHistory needs a rueidis.Client")
	}
	if err := opts.Policies.Validate(); err != nil {
		return nil, fmt.Errorf("graft/broker/redis: %w", err)
	}
	if opts.Prefix == "" {
		opts.Prefix = "graft:ws:h:"
	}
	return &History{c: c, prefix: opts.Prefix, policies: opts.Policies}, nil
}

// appendScript: KEYS meta, stream; ARGV new epoch, data, now (ms), size,
// ttl (ms). Returns {offset, epoch}.
var appendScript = rueidis.NewLuaScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e then
  e = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', e, 'o', 0)
end
local o = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], o .. '-1', 't', ARGV[3], 'd', ARGV[2])
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return {o, e}
`)

// readScript: KEYS meta, stream; ARGV new epoch, from offset, count (-1:
// no entries, 0: all). Returns {epoch, top, offset1, time1, data1, ...}
// with the entries from offset "from" on.
var readScript = rueidis.NewLuaScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e then
  e = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', e, 'o', 0)
end
local top = tonumber(redis.call('HGET', KEYS[1], 'o'))
local out = {e, top}
local count = tonumber(ARGV[3])
if count < 0 or tonumber(ARGV[2]) > top then return out end
local entries
if count == 0 then
  entries = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-1', '+')
else
  entries = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-1', '+', 'COUNT', count)
end
for _, en in ipairs(entries) do
  out[#out+1] = tonumber(string.match(en[1], '^(%d+)'))
  out[#out+1] = en[2][2]
  out[#out+1] = en[2][4]
end
return out
`)

func (h *History) keys(topic string) []string {
	base := h.prefix + "{" + topic + "}"
	return []string{base + ":m", base + ":s"}
}

func (h *History) policy(topic string) (broker.HistoryPolicy, error) {
	p, _, ok := h.policies.Lookup(topic)
	if !ok {
		return p, broker.NoHistory(topic)
	}
	return p, nil
}

// Append implements broker.History.
func (h *History) Append(ctx context.Context, topic string, data []byte) (broker.Position, error) {
	p, err := h.policy(topic)
	if err != nil {
		return broker.Position{}, err
	}
	res, err := appendScript.Exec(ctx, h.c, h.keys(topic), []string{
		broker.NewEpoch(), rueidis.BinaryString(data), strconv.FormatInt(time.Now().UnixMilli(), 10),
		strconv.Itoa(p.Size), strconv.FormatInt(p.TTL.Milliseconds(), 10),
	}).ToArray()
	if err != nil {
		return broker.Position{}, fmt.Errorf("graft/broker/redis: history append on %q: %w", topic, err)
	}
	if len(res) != 2 {
		return broker.Position{}, fmt.Errorf("graft/broker/redis: history append on %q: unexpected reply of %d elements", topic, len(res))
	}
	off, err1 := res[0].AsUint64()
	epoch, err2 := res[1].ToString()
	if err := errors.Join(err1, err2); err != nil {
		return broker.Position{}, fmt.Errorf("graft/broker/redis: history append on %q: %w", topic, err)
	}
	return broker.Position{Offset: off, Epoch: epoch}, nil
}

// read runs readScript from offset from with count as there.
func (h *History) read(ctx context.Context, topic string, from uint64, count int) (broker.Position, []rueidis.RedisMessage, error) {
	res, err := readScript.Exec(ctx, h.c, h.keys(topic), []string{
		broker.NewEpoch(), strconv.FormatUint(from, 10), strconv.Itoa(count),
	}).ToArray()
	if err != nil {
		return broker.Position{}, nil, fmt.Errorf("graft/broker/redis: history of %q: %w", topic, err)
	}
	if len(res) < 2 || (len(res)-2)%3 != 0 {
		return broker.Position{}, nil, fmt.Errorf("graft/broker/redis: history of %q: unexpected reply of %d elements", topic, len(res))
	}
	epoch, err1 := res[0].ToString()
	top, err2 := res[1].AsUint64()
	if err := errors.Join(err1, err2); err != nil {
		return broker.Position{}, nil, fmt.Errorf("graft/broker/redis: history of %q: %w", topic, err)
	}
	return broker.Position{Offset: top, Epoch: epoch}, res[2:], nil
}

// Position implements broker.History.
func (h *History) Position(ctx context.Context, topic string) (broker.Position, error) {
	if _, err := h.policy(topic); err != nil {
		return broker.Position{}, err
	}
	top, _, err := h.read(ctx, topic, 0, -1)
	return top, err
}

// Since implements broker.History.
func (h *History) Since(ctx context.Context, topic string, pos broker.Position, limit int) ([]broker.Publication, broker.Position, error) {
	p, err := h.policy(topic)
	if err != nil {
		return nil, broker.Position{}, err
	}
	top, raw, err := h.read(ctx, topic, pos.Offset+1, max(limit, 0))
	if err != nil {
		return nil, broker.Position{}, err
	}
	oldest := top.Offset + 1 // none kept after pos, unless the range says so
	if len(raw) > 0 {
		first, err := raw[0].AsUint64()
		if err != nil {
			return nil, top, fmt.Errorf("graft/broker/redis: history of %q: %w", topic, err)
		}
		oldest = first
		if p.TTL > 0 {
			// Entries are in time order: if the first is fresh, all are.
			ms, err := raw[1].AsInt64()
			if err != nil {
				return nil, top, fmt.Errorf("graft/broker/redis: history of %q: %w", topic, err)
			}
			if time.UnixMilli(ms).Before(time.Now().Add(-p.TTL)) {
				oldest = top.Offset + 2 // expired: nothing after pos is kept
			}
		}
	}
	if err := broker.CheckSince(topic, pos, top, oldest); err != nil {
		return nil, top, err
	}
	if len(raw) == 0 {
		return nil, top, nil
	}
	out := make([]broker.Publication, len(raw)/3)
	for i := range out {
		off, err1 := raw[3*i].AsUint64()
		ms, err2 := raw[3*i+1].AsInt64()
		data, err3 := raw[3*i+2].AsBytes()
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, top, fmt.Errorf("graft/broker/redis: history of %q: %w", topic, err)
		}
		if off != pos.Offset+uint64(i)+1 {
			// A gap inside the range: only a concurrent trim can make one.
			return nil, top, &broker.UnrecoverableError{Topic: topic, Reason: broker.ReasonTrimmed, Current: top}
		}
		out[i] = broker.Publication{Offset: off, Data: data, Time: time.UnixMilli(ms)}
	}
	return out, top, nil
}
