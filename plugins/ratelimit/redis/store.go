package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/graftgo/graft/plugins/ratelimit"
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
	// Prefix is put in front of every key ("ratelimit:" when empty); the
	// key of a request is PREFIX + policy name + ":" + its key.
	Prefix string
}

// Store is a ratelimit.Store in Redis: one hash per key, read and updated
// by one Lua script, so concurrent requests of one key (from any number
// of nodes) are counted atomically. Keys expire in Redis once their
// counters are a fresh key's again.
type Store struct {
	client rueidis.Client
	own    bool
	prefix string
	script *rueidis.Lua
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
		return nil, fmt.Errorf("ratelimit/redis: connecting to %v: %w", co.InitAddress, err)
	}
	s := NewWithClient(c, opts.Prefix)
	s.own = true
	return s, nil
}

// NewWithClient returns a store on a client the app already has (the one
// of broker/redis, say); Close leaves the client open.
func NewWithClient(c rueidis.Client, prefix string) *Store {
	if prefix == "" {
		prefix = "ratelimit:"
	}
	return &Store{client: c, prefix: prefix, script: rueidis.NewLuaScript(takeScript)}
}

// Close closes the client New made.
func (s *Store) Close() {
	if s.own {
		s.client.Close()
	}
}

var algorithms = [...]string{ratelimit.FixedWindow: "1", ratelimit.SlidingWindow: "2", ratelimit.TokenBucket: "3", ratelimit.GCRA: "4"}

// Take implements ratelimit.Store. The time is the caller's clock, so
// every node should keep its clock in sync (NTP), as for any shared
// window.
func (s *Store) Take(ctx context.Context, p *ratelimit.Policy, key string, now time.Time, cost int) (ratelimit.Decision, error) {
	if p.Algorithm == 0 || int(p.Algorithm) >= len(algorithms) {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit/redis: policy %q has algorithm %v; pass a policy a Limiter checked", p.Name, p.Algorithm)
	}
	args := []string{
		algorithms[p.Algorithm],
		strconv.FormatInt(now.UnixMicro(), 10),
		strconv.Itoa(cost),
		strconv.Itoa(p.Limit),
		strconv.FormatInt(p.Window.Microseconds(), 10),
		strconv.Itoa(p.Burst),
	}
	v, err := s.script.Exec(ctx, s.client, []string{s.prefix + p.Name + ":" + key}, args).AsIntSlice()
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit/redis: %w", err)
	}
	if len(v) != 4 {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit/redis: the script answered %d values, want 4", len(v))
	}
	return ratelimit.Decision{
		Allowed:    v[0] == 1,
		Limit:      p.Limit,
		Remaining:  int(v[1]),
		Reset:      time.Duration(v[2]) * time.Microsecond,
		RetryAfter: time.Duration(v[3]) * time.Microsecond,
	}, nil
}

var _ ratelimit.Store = (*Store)(nil)
