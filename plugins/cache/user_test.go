package cache_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/auth"
	"github.com/graftgo/graft/plugins/cache"
)

type client struct{ Name string }

type meIn struct {
	Client *client `plugin:""`
}

type meOut struct {
	Body string
}

const (
	annKey = "ann-0123456789abcdef"
	bobKey = "bob-0123456789abcdef"
)

// A User key gives each caller answers of their own, checks the
// credential on every request (hits included), and caches requests that
// carry Authorization; endpoints without the identity are shared.
func TestUserKey(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{Policy: cache.Policy{User: cache.User(func(c *client) string { return c.Name })}})
	app.UsePlugins(auth.APIKey(auth.APIKeyConfig[*client]{Keys: []auth.Key[*client]{
		{Key: annKey, Value: &client{"ann"}}, {Key: bobKey, Value: &client{"bob"}},
	}}), c)
	var runs atomic.Int64
	graft.Get(app, "/me", func(_ context.Context, in *meIn) (*meOut, error) {
		return &meOut{Body: in.Client.Name + " run " + strconv.FormatInt(runs.Add(1), 10)}, nil
	})
	public := handle(app, "/public", text())
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/me", "X-API-Key", annKey), "MISS", "ann run 1")
	wantCache(t, srv.Get("/me", "X-API-Key", bobKey), "MISS", "bob run 2")
	wantCache(t, srv.Get("/me", "X-API-Key", annKey), "HIT", "ann run 1")
	wantCache(t, srv.Get("/me", "X-API-Key", bobKey, "Authorization", "Bearer x"), "HIT", "bob run 2")
	srv.Get("/me", "X-API-Key", "wrong-0123456789abcdef").WantStatus(401).Problem()
	srv.Get("/me").WantStatus(401)
	wantCache(t, srv.Get("/me", "X-API-Key", annKey, "Cache-Control", "no-cache"), "MISS", "ann run 3")
	wantCache(t, srv.Get("/me", "X-API-Key", annKey), "HIT", "ann run 3")
	wantCache(t, srv.Get("/me", "X-API-Key", bobKey), "HIT", "bob run 2")
	if h := srv.Request("HEAD", "/me", nil, "X-API-Key", bobKey); h.Header.Get("X-Cache") != "HIT" || len(h.Body) != 0 {
		t.Errorf("HEAD: %q %q", h.Header.Get("X-Cache"), h.Body)
	}
	if err := c.Purge(context.Background(), "/me"); err != nil {
		t.Fatal(err)
	}
	wantCache(t, srv.Get("/me", "X-API-Key", bobKey), "MISS", "bob run 4")

	wantCache(t, srv.Get("/public"), "MISS", "run 1")
	wantCache(t, srv.Get("/public", "X-API-Key", annKey), "HIT", "run 1")
	if runs.Load() != 4 || public.Load() != 1 {
		t.Errorf("runs %d, %d", runs.Load(), public.Load())
	}
}

// Concurrent misses of one user run the handler once there too.
func TestUserKeyStampede(t *testing.T) {
	const n = 8
	app := newApp()
	c := cache.New(cache.Config{Policy: cache.Policy{User: cache.User(func(c *client) string { return c.Name })}})
	app.UsePlugins(auth.APIKey(auth.APIKeyConfig[*client]{Keys: []auth.Key[*client]{{Key: annKey, Value: &client{"ann"}}}}), c)
	release := make(chan struct{})
	var runs atomic.Int64
	graft.Get(app, "/me", func(_ context.Context, in *meIn) (*meOut, error) {
		k := runs.Add(1)
		<-release
		return &meOut{Body: in.Client.Name + " run " + strconv.FormatInt(k, 10)}, nil
	})
	srv := graftest.Start(t, app)
	res := make(chan string, n)
	for range n {
		go func() {
			r, err := srv.Client.Do(mustReq(t, srv.URL+"/me", "X-API-Key", annKey))
			if err != nil {
				res <- err.Error()
				return
			}
			res <- r.Header.Get("X-Cache") + " " + readAll(r)
		}()
	}
	graftest.WaitFor(t, "one request in the handler and the others waiting", func() bool { return runs.Load() == 1 && c.Waiting() == n-1 })
	close(release)
	hits := 0
	for range n {
		b := recv(t, res, "the /me answers")
		switch b {
		case "HIT ann run 1":
			hits++
		case "MISS ann run 1":
		default:
			t.Errorf("answer %q", b)
		}
	}
	if hits != n-1 || runs.Load() != 1 {
		t.Errorf("hits %d, runs %d", hits, runs.Load())
	}
}
