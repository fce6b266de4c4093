package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/graftgo/graft/plugins/idempotency"
	"github.com/redis/rueidis"
)

// Options configures a Store. The zero value connects to 127.0.0.1:6379.
type Options struct {
	// Addr is the Redis server ("127.0.0.1:6379" when empty); ignored
	// when Client.InitAddress is set.
	Addr string
	// Client holds rueidis options (TLS, auth, timeouts, cluster or
	// sentinel addresses). The store sets InitAddress from Addr when it
	// is empty.
	Client rueidis.ClientOption
	// Prefix is put in front of every key ("idempotency:" when empty).
	Prefix string
}

// Store is an idempotency.Store in Redis (Redis 7 or later: SET with NX
// and GET together).
type Store struct {
	client   rueidis.Client
	own      bool
	prefix   string
	complete *rueidis.Lua
	release  *rueidis.Lua
}

// New connects to Redis and returns the store; Close closes the client.
func New(opts Options) (*Store, error) {
	co := opts.Client
	if len(co.InitAddress) == 0 {
		addr := opts.Addr
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		co.InitAddress = []string{addr}
	}
	c, err := rueidis.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("idempotency/redis: connecting to %v: %w", co.InitAddress, err)
	}
	s := NewWithClient(c, opts.Prefix)
	s.own = true
	return s, nil
}

// NewWithClient returns a store on a client the app already has (the one
// of broker/redis, say); Close leaves the client open.
func NewWithClient(c rueidis.Client, prefix string) *Store {
	if prefix == "" {
		prefix = "idempotency:"
	}
	return &Store{client: c, prefix: prefix,
		complete: rueidis.NewLuaScript(completeScript), release: rueidis.NewLuaScript(releaseScript)}
}

// Close closes the client New made.
func (s *Store) Close() {
	if s.own {
		s.client.Close()
	}
}

// The values: a lock is "L" + fingerprint (32 bytes) + token; a stored
// answer is "D" + fingerprint + the answer's binary encoding.
const fpEnd = 1 + len(idempotency.Fingerprint{})

// completeScript: KEYS[1] the key, ARGV[1] the token, ARGV[2] the
// encoded answer, ARGV[3] its TTL in ms. 1 when stored, 0 when the lock
// is not the token's.
const completeScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'L' and string.sub(v, 34) == ARGV[1] then
	redis.call('SET', KEYS[1], 'D' .. string.sub(v, 2, 33) .. ARGV[2], 'PX', ARGV[3])
	return 1
end
return 0`

// releaseScript: KEYS[1] the key, ARGV[1] the token.
const releaseScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'L' and string.sub(v, 34) == ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0`

// Begin implements idempotency.Store: one SET NX PX GET.
func (s *Store) Begin(ctx context.Context, key string, fp idempotency.Fingerprint, token string, lockTTL time.Duration) (idempotency.Entry, error) {
	lock := make([]byte, 0, fpEnd+len(token))
	lock = append(append(append(lock, 'L'), fp[:]...), token...)
	cmd := s.client.B().Set().Key(s.prefix + key).Value(rueidis.BinaryString(lock)).Nx().Get().PxMilliseconds(ms(lockTTL)).Build()
	v, err := s.client.Do(ctx, cmd).ToString()
	if rueidis.IsRedisNil(err) {
		return idempotency.Entry{State: idempotency.Claimed}, nil
	}
	if err != nil {
		return idempotency.Entry{}, fmt.Errorf("idempotency/redis: %w", err)
	}
	return parse(v)
}

// parse reads a value Begin found.
func parse(v string) (idempotency.Entry, error) {
	if len(v) < fpEnd || v[0] != 'L' && v[0] != 'D' {
		return idempotency.Entry{}, errors.New("idempotency/redis: the key holds a value this store did not write")
	}
	var e idempotency.Entry
	copy(e.Fingerprint[:], v[1:fpEnd])
	if v[0] == 'L' {
		e.State = idempotency.InFlight
		return e, nil
	}
	a := &idempotency.Answer{}
	if err := a.UnmarshalBinary([]byte(v[fpEnd:])); err != nil {
		return idempotency.Entry{}, fmt.Errorf("idempotency/redis: %w", err)
	}
	e.State, e.Answer = idempotency.Done, a
	return e, nil
}

// Complete implements idempotency.Store.
func (s *Store) Complete(ctx context.Context, key, token string, a *idempotency.Answer, ttl time.Duration) error {
	b, err := a.MarshalBinary()
	if err != nil {
		return err
	}
	n, err := s.complete.Exec(ctx, s.client, []string{s.prefix + key}, []string{token, rueidis.BinaryString(b), strconv.FormatInt(ms(ttl), 10)}).AsInt64()
	if err != nil {
		return fmt.Errorf("idempotency/redis: %w", err)
	}
	if n != 1 {
		return idempotency.ErrLockLost
	}
	return nil
}

// Release implements idempotency.Store.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if err := s.release.Exec(ctx, s.client, []string{s.prefix + key}, []string{token}).Error(); err != nil {
		return fmt.Errorf("idempotency/redis: %w", err)
	}
	return nil
}

// ms is d in whole milliseconds, at least 1 (PX 0 is an error).
func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

var _ idempotency.Store = (*Store)(nil)
