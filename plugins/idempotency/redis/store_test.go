package redis

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/idempotency"
)

var ctx = context.Background()

func begin(t *testing.T, s *Store, key string, fp idempotency.Fingerprint, token string, ttl time.Duration, want idempotency.State) idempotency.Entry {
	t.Helper()
	e, err := s.Begin(ctx, key, fp, token, ttl)
	if err != nil {
		t.Fatalf("Begin(%q): %v", key, err)
	}
	if e.State != want {
		t.Fatalf("Begin(%q): state %v, want %v", key, e.State, want)
	}
	return e
}

func TestStoreLifecycle(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv)
	fp := idempotency.Fingerprint{1, 2, 3, 31: 0xff}
	begin(t, s, "k", fp, "t1", time.Minute, idempotency.Claimed)
	e := begin(t, s, "k", idempotency.Fingerprint{9}, "t2", time.Minute, idempotency.InFlight)
	if e.Fingerprint != fp {
		t.Fatalf("in-flight fingerprint %x, want the holder's %x", e.Fingerprint, fp)
	}
	if err := s.Complete(ctx, "k", "t2", &idempotency.Answer{Status: 201}, time.Hour); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("Complete with another token: %v, want ErrLockLost", err)
	}
	if err := s.Release(ctx, "k", "t2"); err != nil {
		t.Fatal(err)
	}
	begin(t, s, "k", fp, "t3", time.Minute, idempotency.InFlight)
	a := &idempotency.Answer{Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "X-Two": {"a", "b"}},
		Body: []byte("{\"id\":1}\x00\xff binary too")}
	if err := s.Complete(ctx, "k", "t1", a, time.Hour); err != nil {
		t.Fatal(err)
	}
	e = begin(t, s, "k", idempotency.Fingerprint{}, "t4", time.Minute, idempotency.Done)
	if e.Fingerprint != fp || !reflect.DeepEqual(e.Answer, a) {
		t.Fatalf("stored %x %+v, want %x %+v", e.Fingerprint, e.Answer, fp, a)
	}
	// A stored answer is not released, nor completed again.
	if err := s.Release(ctx, "k", "t1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "k", "t1", a, time.Hour); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("Complete twice: %v, want ErrLockLost", err)
	}
	begin(t, s, "k", fp, "t5", time.Minute, idempotency.Done)

	// The TTLs are Redis's: the lock's PX, then the answer's.
	pttl := func(key string) int64 {
		n, err := s.client.Do(ctx, s.client.B().Pttl().Key("idempotency:"+key).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pttl("k"); n <= 59*60*1000 || n > 3600*1000 {
		t.Fatalf("answer PTTL %d ms, want about an hour", n)
	}
	begin(t, s, "lock", fp, "t", 30*time.Second, idempotency.Claimed)
	if n := pttl("lock"); n <= 25_000 || n > 30_000 {
		t.Fatalf("lock PTTL %d ms, want about 30 s", n)
	}
	if err := s.Release(ctx, "lock", "t"); err != nil {
		t.Fatal(err)
	}
	begin(t, s, "lock", fp, "t", time.Minute, idempotency.Claimed)
}

// A lock that expires frees its key; its holder can no longer store.
func TestLockExpires(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv)
	begin(t, s, "k", idempotency.Fingerprint{}, "old", 50*time.Millisecond, idempotency.Claimed)
	graftest.WaitFor(t, "the 50ms lock to expire in Redis", func() bool {
		e, err := s.Begin(ctx, "k", idempotency.Fingerprint{}, "new", time.Minute)
		return err == nil && e.State == idempotency.Claimed
	})
	if err := s.Complete(ctx, "k", "old", &idempotency.Answer{Status: 200}, time.Hour); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("Complete by the expired holder: %v, want ErrLockLost", err)
	}
	begin(t, s, "k", idempotency.Fingerprint{}, "x", time.Minute, idempotency.InFlight)
}

// A key that holds something else is an error, never a wrong answer.
func TestForeignValue(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv)
	for _, v := range []string{"hello", "D" + strings.Repeat("x", 32) + "\x01\x02", "L"} {
		if err := s.client.Do(ctx, s.client.B().Set().Key("idempotency:k").Value(v).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Begin(ctx, "k", idempotency.Fingerprint{}, "t", time.Minute); err == nil {
			t.Fatalf("Begin on the value %q: no error", v)
		}
	}
}

type orderIn struct {
	Body struct {
		Item string `json:"item"`
	}
}

type orderOut struct {
	Status int `default:"201"`
	Body   struct {
		ID   int64  `json:"id"`
		Item string `json:"item"`
	}
}

// node is an app with the plugin on a Redis store; runs counts the
// handler's runs over every node of a test.
func node(t *testing.T, srv *redisServer, runs *atomic.Int64, gate chan struct{}) *graftest.Server {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.UsePlugins(idempotency.New(idempotency.Config{Store: newStore(t, srv), Required: true}))
	graft.Post(app, "/orders", func(_ context.Context, in *orderIn) (*orderOut, error) {
		n := runs.Add(1)
		if gate != nil {
			select {
			case <-gate:
			case <-time.After(graftest.Timeout):
				return nil, graft.NewError(500, "the test never opened the gate")
			}
		}
		out := &orderOut{}
		out.Body.ID, out.Body.Item = n, in.Body.Item
		return out, nil
	})
	return graftest.Start(t, app)
}

// Two nodes, one Redis: 20 concurrent requests with one key, spread over
// both, run the handler once; the others are 409 while it runs, and both
// nodes replay its answer after.
func TestTwoNodes(t *testing.T) {
	srv := startRedis(t)
	var runs atomic.Int64
	gate := make(chan struct{})
	nodes := []*graftest.Server{node(t, srv, &runs, gate), node(t, srv, &runs, gate)}
	const n = 20
	type result struct {
		code int
		body string
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := nodes[i%2]
			req, _ := http.NewRequest("POST", s.URL+"/orders", strings.NewReader(`{"item":"book"}`))
			req.Header.Set("Idempotency-Key", `"shared-key"`)
			res, err := s.Client.Do(req)
			if err != nil {
				results <- result{code: -1, body: err.Error()}
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			results <- result{res.StatusCode, string(b)}
		}()
	}
	conflicts := 0
	for conflicts < n-1 {
		select {
		case r := <-results:
			if r.code != 409 {
				t.Fatalf("a concurrent request got %d %s, want 409 while the first runs", r.code, r.body)
			}
			conflicts++
		case <-time.After(graftest.Timeout):
			t.Fatalf("waited for %d requests to be answered 409; %d were", n-1, conflicts)
		}
	}
	close(gate)
	wg.Wait()
	first := <-results
	graftest.Equal(t, first.code, 201)
	graftest.Equal(t, runs.Load(), int64(1))
	for _, s := range nodes {
		res := s.For(t).Post("/orders", "application/json", `{"item":"book"}`, "Idempotency-Key", `"shared-key"`).WantStatus(201)
		graftest.Equal(t, res.Text(), first.body)
		graftest.Equal(t, res.Header.Get(idempotency.ReplayedHeader), "true")
		s.For(t).Post("/orders", "application/json", `{"item":"lamp"}`, "Idempotency-Key", `"shared-key"`).WantStatus(422)
	}
	graftest.Equal(t, runs.Load(), int64(1))
}

// Redis gone: the plugin answers 503 and never runs the handler.
func TestRedisDown(t *testing.T) {
	srv := startRedis(t)
	var runs atomic.Int64
	s := node(t, srv, &runs, nil)
	s.Post("/orders", "application/json", `{"item":"book"}`, "Idempotency-Key", `"a"`).WantStatus(201)
	srv.Kill()
	res := s.Post("/orders", "application/json", `{"item":"book"}`, "Idempotency-Key", `"b"`).WantStatus(503)
	if p := res.Problem(); strings.Contains(p.Detail, "127.0.0.1") {
		t.Fatalf("the 503 shows the cause: %q", p.Detail)
	}
	graftest.Equal(t, runs.Load(), int64(1))
}
