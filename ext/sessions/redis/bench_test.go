package redis_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/ext/sessions/redis"
	"github.com/graftgo/graft/graftest"
)

// BenchmarkStore: a bare handler, a session read (HGETALL) and a session
// write (the Lua script) through the sessions extension on a loopback
// redis-server.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	st, err := redis.New(client(b, startRedis(b, 0)), redis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: st}))
	app.GET("/bare", func(c *Ctx) error { return c.Text(200, "ok") })
	app.GET("/get", func(c *Ctx) error { v, _ := c.Session().Get("user"); return c.Text(200, v) })
	app.GET("/set", func(c *Ctx) error { c.Session().Set("n", "1"); return c.Text(200, "ok") })
	if err := app.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(ctx)
	id, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"user": "ada"}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/bare", "/get", "/set"} {
		b.Run(p[1:], func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", p, nil)
			req.Header.Set("Cookie", "session="+id)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				app.ServeHTTP(w, req)
			}
		})
	}
}
