package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft/ext/sessions"
	"github.com/redis/rueidis"
)

// DefaultPrefix is Options.Prefix when it is "".
const DefaultPrefix = "graft:session:"

// Options configures a Store.
type Options struct {
	// Prefix is put before each session id to make its key; default
	// "graft:session:".
	Prefix string
	// Timeout bounds each call to Redis, so that a request does not wait
	// for a server that is down while the client reconnects; default 3s.
	Timeout time.Duration
}

// DefaultTimeout is Options.Timeout when it is 0.
const DefaultTimeout = 3 * time.Second

// Store is a sessions.Store in Redis: a hash per session (a field per
// value, plus a marker so an empty session exists) with the session's
// TTL on the key, so Redis itself expires it. A save runs one Lua script
// that deletes the keys the request deleted, sets those it set and renews
// the TTL, atomically on the server: concurrent requests of one session
// changing different keys all keep their writes.
type Store struct {
	c       rueidis.Client
	prefix  string
	timeout time.Duration
}

// New returns a store on client, which stays the caller's to close.
func New(client rueidis.Client, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("sessions/redis: the client is nil")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout < 0 {
		return nil, errors.New("sessions/redis: Options.Timeout is negative")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Store{c: client, prefix: opts.Prefix, timeout: opts.Timeout}, nil
}

// field names inside the hash: values are "v:KEY", the marker is "m".
const (
	valuePrefix = "v:"
	marker      = "m"
)

// save: KEYS[1] the session's key; ARGV[1] the TTL in milliseconds,
// ARGV[2] the number of deleted fields, then those fields, then field and
// value pairs to set.
var save = rueidis.NewLuaScript(`
redis.call('HSET', KEYS[1], 'm', '1')
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 3 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// Load implements sessions.Store.
func (s *Store) Load(ctx context.Context, id string) (map[string]string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	m, err := s.c.Do(ctx, s.c.B().Hgetall().Key(s.prefix+id).Build()).AsStrMap()
	if err != nil {
		return nil, false, err
	}
	if _, ok := m[marker]; !ok {
		return nil, false, nil
	}
	values := make(map[string]string, len(m)-1)
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, valuePrefix); ok {
			values[name] = v
		}
	}
	return values, true, nil
}

// Save implements sessions.Store.
func (s *Store) Save(ctx context.Context, id string, ch sessions.Changes, ttl time.Duration) (string, error) {
	if id == "" {
		id = sessions.NewID()
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	args := make([]string, 0, 2+len(ch.Del)+2*len(ch.Set))
	args = append(args, strconv.FormatInt(ttl.Milliseconds(), 10), strconv.Itoa(len(ch.Del)))
	for _, k := range ch.Del {
		args = append(args, valuePrefix+k)
	}
	for k, v := range ch.Set {
		args = append(args, valuePrefix+k, v)
	}
	if err := save.Exec(ctx, s.c, []string{s.prefix + id}, args).Error(); err != nil {
		return "", err
	}
	return id, nil
}

// Delete implements sessions.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.c.Do(ctx, s.c.B().Del().Key(s.prefix+id).Build()).Error()
}
