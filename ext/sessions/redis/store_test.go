package redis_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/ext/sessions/redis"
	"github.com/graftgo/graft/ext/sessions/sessionstest"
	"github.com/graftgo/graft/internal/redistest"
	"github.com/redis/rueidis"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisServer is a real redis-server on loopback (internal/redistest).
type redisServer = redistest.Server

// startRedis starts redis-server on 127.0.0.1:port (0: a free port),
// persistence off, and kills it when the test ends.
func startRedis(tb testing.TB, port int) *redisServer {
	tb.Helper()
	return redistest.StartOn(tb, port)
}

func client(tb testing.TB, s *redisServer) rueidis.Client {
	tb.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.Addr()}, DisableCache: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// TestStore runs the sessions conformance suite against a real
// redis-server.
func TestStore(t *testing.T) {
	srv := startRedis(t, 0)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		st, err := redis.New(client(t, srv), redis.Options{Prefix: "test:" + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestKeysAndTTL: a session is one hash under the prefix, its TTL the
// session's MaxAge, renewed by each save; a value named like the marker
// does not collide with it.
func TestKeysAndTTL(t *testing.T) {
	srv := startRedis(t, 0)
	c := client(t, srv)
	st, _ := redis.New(c, redis.Options{Prefix: "app:s:"})
	ctx := context.Background()
	id, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"m": "mine", "user": "ada"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pttl, err := c.Do(ctx, c.B().Pttl().Key("app:s:"+id).Build()).AsInt64()
	if err != nil || pttl <= 50_000 || pttl > 60_000 {
		t.Fatalf("PTTL %d %v, want about 60000", pttl, err)
	}
	if _, err := st.Save(ctx, id, sessions.Changes{Del: []string{"m"}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if pttl, _ := c.Do(ctx, c.B().Pttl().Key("app:s:"+id).Build()).AsInt64(); pttl <= 3_500_000 {
		t.Errorf("the TTL was not renewed: %d", pttl)
	}
	v, ok, err := st.Load(ctx, id)
	if err != nil || !ok || len(v) != 1 || v["user"] != "ada" {
		t.Fatalf("after deleting the value named m: %v %v %v", v, ok, err)
	}
	if _, err := redis.New(nil, redis.Options{}); err == nil {
		t.Error("New accepted a nil client")
	}
	if _, err := redis.New(c, redis.Options{Timeout: -1}); err == nil {
		t.Error("New accepted a negative timeout")
	}
}

type Ctx struct {
	graft.Ctx
	sessions.Access
}

// TestStoreDown: with redis-server killed, a handler that loads the
// session answers 503 and the session cookie is left alone; once the
// server is back (same port, empty) the client gets a new session.
func TestStoreDown(t *testing.T) {
	srv := startRedis(t, 0)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true,
		Dialer: net.Dialer{Timeout: time.Second}, ConnWriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, _ := redis.New(c, redis.Options{Timeout: 500 * time.Millisecond})
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: st}))
	app.GET("/visit", func(c *Ctx) error {
		s := c.Session()
		if err := s.Load(); err != nil {
			return graft.NewError(503, "sessions are unavailable, try again")
		}
		n, _ := strconv.Atoi(func() string { v, _ := s.Get("n"); return v }())
		s.Set("n", strconv.Itoa(n+1))
		return c.Text(200, strconv.Itoa(n+1))
	})
	hs := httptest.NewServer(app)
	defer func() { hs.Close(); app.Stop(context.Background()) }()
	visit := func(cookie string) (int, string, string) {
		req, _ := http.NewRequest("GET", hs.URL+"/visit", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), strings.SplitN(res.Header.Get("Set-Cookie"), ";", 2)[0]
	}
	_, _, ck := visit("")
	if code, body, _ := visit(ck); code != 200 || body != "2" {
		t.Fatalf("second visit: %d %q", code, body)
	}
	srv.Kill()
	code, body, set := visit(ck)
	if code != 503 || set != "" || !strings.Contains(body, "unavailable") {
		t.Fatalf("store down: %d %q Set-Cookie %q, want 503 and no cookie change", code, body, set)
	}
	startRedis(t, srv.Port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, set = visit(ck)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 200 within 10s of redis-server's restart: %d %q", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body != "1" || set == "" || set == ck {
		t.Fatalf("after the restart (sessions lost): %q, cookie %q (old %q), want a new session", body, set, ck)
	}
}
