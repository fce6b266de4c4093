package sessions_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/graftest"
)

// BenchmarkSessions: a bare handler, one that does not touch the session
// through the extension, and a read and a write of an existing session in
// the memory store and in the encrypted cookie store.
func BenchmarkSessions(b *testing.B) {
	ctx := context.Background()
	cookieStore, _ := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{key}, Encrypt: true})
	for _, st := range []struct {
		name  string
		store sessions.Store
	}{{"memory", sessions.NewMemoryStore()}, {"cookie", cookieStore}} {
		app := graft.NewWithContext[Ctx](graft.Config{})
		app.Register(sessions.Extension(sessions.Options{Store: st.store}))
		app.GET("/bare", func(c *Ctx) error { return c.Text(200, "ok") })
		app.GET("/get", func(c *Ctx) error { v, _ := c.Session().Get("user"); return c.Text(200, v) })
		app.GET("/set", func(c *Ctx) error { c.Session().Set("n", "1"); return c.Text(200, "ok") })
		if err := app.Start(ctx); err != nil {
			b.Fatal(err)
		}
		id, _ := st.store.Save(ctx, "", sessions.Changes{Set: map[string]string{"user": "ada"}}, time.Hour)
		for _, p := range []string{"/bare", "/get", "/set"} {
			b.Run(st.name+p, func(b *testing.B) {
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
		app.Stop(ctx)
	}
}

// TestUntouchedSessionCostsNothing: a handler that does not use the
// session allocates what it would without the extension.
func TestUntouchedSessionCostsNothing(t *testing.T) {
	bare := graft.NewWithContext[Ctx](graft.Config{})
	bare.Register(sessions.Extension(sessions.Options{Store: sessions.NewMemoryStore()}))
	plain := graft.New(graft.Config{})
	h := func(c *graft.Ctx) error { return c.Text(200, strings.Repeat("x", 10)) }
	bare.GET("/", func(c *Ctx) error { return h(&c.Ctx) })
	plain.GET("/", h)
	count := func(app http.Handler) float64 {
		w := graftest.NewDiscard()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", "session=abc")
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	for _, a := range []interface{ Start(context.Context) error }{bare, plain} {
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	defer bare.Stop(context.Background())
	defer plain.Stop(context.Background())
	if with, without := count(bare), count(plain); with != without {
		t.Errorf("untouched session: %v allocs, without the extension %v", with, without)
	}
}
