package idempotency_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/idempotency"
)

type benchIn struct {
	Body struct {
		Item string `json:"item"`
	}
}

type benchOut struct {
	Body struct {
		Item string `json:"item"`
	}
}

func benchApp(tb testing.TB, with bool) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	if with {
		app.UsePlugins(idempotency.New(idempotency.Config{})) // the default memory store: full after 10 000 keys, then evicting
	}
	h := func(_ context.Context, in *benchIn) (*benchOut, error) {
		out := &benchOut{}
		out.Body.Item = in.Body.Item
		return out, nil
	}
	graft.Post(app, "/orders", h)
	graft.Put(app, "/orders", h)
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

type bodyReq struct {
	r    *http.Request
	body strings.Reader
}

// request returns a reusable request: reset rewinds its body.
func newReq(method, key string) *bodyReq {
	b := &bodyReq{}
	b.r, _ = http.NewRequest(method, "/orders", nil)
	b.r.Header.Set("Content-Type", "application/json")
	if key != "" {
		b.r.Header.Set("Idempotency-Key", key)
	}
	b.reset()
	return b
}

const benchBody = `{"item":"a book of some length"}`

func (b *bodyReq) reset() {
	b.body.Reset(benchBody)
	b.r.Body = readCloser{&b.body}
	b.r.ContentLength = int64(len(benchBody))
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkIdempotency: a keyed first request (a new key each time, the
// answer stored), a replay of a stored answer, a POST without a key, a
// PUT (the plugin does not apply) and the bare POST without the plugin.
func BenchmarkIdempotency(b *testing.B) {
	bare, with := benchApp(b, false), benchApp(b, true)
	w := graftest.NewDiscard()
	run := func(b *testing.B, app *graft.App[graft.Ctx], method, key string, want int, perIter func(*bodyReq, int)) {
		req := newReq(method, key)
		b.ReportAllocs()
		for i := range b.N {
			req.reset()
			if perIter != nil {
				perIter(req, i)
			}
			w.Reset()
			app.ServeHTTP(w, req.r)
			if w.Status() != want {
				b.Fatalf("status %d, want %d", w.Status(), want)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare, "POST", "", 200, nil) })
	b.Run("not-applying-PUT", func(b *testing.B) { run(b, with, "PUT", "", 200, nil) })
	b.Run("bare-PUT", func(b *testing.B) { run(b, bare, "PUT", "", 200, nil) })
	b.Run("no-key", func(b *testing.B) { run(b, with, "POST", "", 200, nil) })
	b.Run("first", func(b *testing.B) {
		keys := make([]string, b.N)
		for i := range keys {
			keys[i] = `"first-` + strconv.Itoa(i) + `"`
		}
		run(b, with, "POST", "x", 200, func(r *bodyReq, i int) { r.r.Header["Idempotency-Key"][0] = keys[i] })
	})
	b.Run("replay", func(b *testing.B) {
		req := newReq("POST", `"replayed"`)
		w.Reset()
		with.ServeHTTP(w, req.r)
		run(b, with, "POST", `"replayed"`, 200, nil)
	})
}

// A method the plugin does not apply to costs what the bare endpoint
// does; a POST without a key (optional) costs no allocation more.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	bare, with := benchApp(t, false), benchApp(t, true)
	w := graftest.NewDiscard()
	allocs := func(app *graft.App[graft.Ctx], method, key string) float64 {
		req := newReq(method, key)
		return testing.AllocsPerRun(200, func() { req.reset(); w.Reset(); app.ServeHTTP(w, req.r) })
	}
	if b, p := allocs(bare, "PUT", ""), allocs(with, "PUT", ""); p != b {
		t.Errorf("PUT under the plugin: %v allocs, want the bare %v", p, b)
	}
	if b, p := allocs(bare, "POST", ""), allocs(with, "POST", ""); p != b {
		t.Errorf("POST without a key: %v allocs, want the bare %v", p, b)
	}
	// A replay: the scope key and the lock token (made before the store
	// says the key is answered); no handler, no binding.
	if r := allocs(with, "POST", `"k"`); r != 2 {
		t.Errorf("replay: %v allocs, want 2 (the scope key and the token)", r)
	}
	// A first request: the scope key, the token, the store's entry, the
	// stored answer (struct, header map and its Content-Type and
	// Content-Length values, body), the context.WithoutCancel of Complete
	// and the store's map and heap growing, plus the bare request's own.
	req := newReq("POST", "x")
	i := 0
	first := testing.AllocsPerRun(500, func() {
		i++
		req.reset()
		req.r.Header["Idempotency-Key"][0] = "first-" + strconv.Itoa(i)
		w.Reset()
		with.ServeHTTP(w, req.r)
	}) - 1 // the key string the test makes
	if b := allocs(bare, "POST", ""); first > b+10 {
		t.Errorf("first request: %v allocs, want at most bare %v + 10", first, b)
	}
}
