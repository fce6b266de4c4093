package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/cache"
)

type benchOut struct {
	Body struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
}

type postIn struct {
	Body struct {
		Name string `json:"name"`
	}
}

// benchApp serves GET /item (cached when with), GET /fresh (a new key each
// request: a miss every time) and POST /item (which the cache leaves
// alone).
func benchApp(tb testing.TB, with bool) *graft.App[graft.Ctx] {
	tb.Helper()
	app := graft.New(graft.Config{})
	if with {
		app.UsePlugins(cache.New(cache.Config{}))
	}
	get := func(context.Context, *struct{}) (*benchOut, error) {
		o := &benchOut{}
		o.Body.ID, o.Body.Name = 7, "widget"
		return o, nil
	}
	graft.Get(app, "/item", get)
	graft.Get(app, "/fresh", func(context.Context, *struct {
		N string `query:"n"`
	}) (*benchOut, error) {
		o := &benchOut{}
		o.Body.ID, o.Body.Name = 7, "widget"
		return o, nil
	})
	graft.Post(app, "/item", func(_ context.Context, in *postIn) (*benchOut, error) {
		o := &benchOut{}
		o.Body.ID, o.Body.Name = 7, in.Body.Name
		return o, nil
	})
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// freshN numbers the queries of the fresh cases: a new key for every
// request, across runs of one benchmark (-count) on one app.
var freshN int64

// BenchmarkCache serves, through app.ServeHTTP and a discarding writer: a
// GET endpoint bare and as a cache hit, an endpoint with a new query each
// time bare and as a miss (the handler runs and its answer is stored; the
// store fills to its 10 000 entries and evicts), and a POST endpoint bare
// and under the cache (left unchanged).
func BenchmarkCache(b *testing.B) {
	bare, with := benchApp(b, false), benchApp(b, true)
	w := graftest.NewDiscard()
	warm := httptest.NewRequest("GET", "/item", nil)
	with.ServeHTTP(w, warm)
	for _, bc := range []struct {
		name   string
		app    *graft.App[graft.Ctx]
		method string
		path   string
		fresh  bool
	}{
		{"get-bare", bare, "GET", "/item", false},
		{"get-hit", with, "GET", "/item", false},
		{"get-fresh-bare", bare, "GET", "/fresh", true},
		{"get-miss", with, "GET", "/fresh", true},
		{"post-bare", bare, "POST", "/item", false},
		{"post-not-applying", with, "POST", "/item", false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(bc.method, bc.path, nil)
			body := &stringsR{s: `{"name":"w"}`}
			if bc.method == "POST" {
				req.Header.Set("Content-Type", "application/json")
				req.ContentLength = int64(len(body.s))
			}
			b.ReportAllocs()
			for b.Loop() {
				if bc.method == "POST" {
					body.i = 0
					req.Body = body
				}
				if bc.fresh {
					freshN++
					req.URL.RawQuery = "n=" + strconv.FormatInt(freshN, 10)
				}
				w.Reset()
				bc.app.ServeHTTP(w, req)
				if w.Status() != http.StatusOK {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// BenchmarkMemoryStore measures Get on a warm store from parallel
// goroutines, with one lock (Shards: 1) and with 16 shards.
func BenchmarkMemoryStore(b *testing.B) {
	for _, shards := range []int{1, 16} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			s, err := cache.NewMemoryStore(cache.MemoryConfig{Shards: shards})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			keys := make([]string, 1024)
			e := &cache.Entry{Status: 200, Body: []byte("x"), Expires: time.Now().Add(time.Hour)}
			for i := range keys {
				keys[i] = "/items/" + strconv.Itoa(i)
				s.Set(ctx, keys[i], e)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if got, _ := s.Get(ctx, keys[i&1023]); got == nil {
						b.Error("miss")
						return
					}
					i++
				}
			})
		})
	}
}

type stringsR struct {
	s string
	i int
}

func (r *stringsR) Close() error { return nil }

func (r *stringsR) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	n := copy(p, r.s[r.i:])
	r.i += n
	return n, nil
}

// served returns a function that serves one request of method to path on
// app through w (a new query each time for fresh), failing on a non-200.
func served(tb testing.TB, app *graft.App[graft.Ctx], w *graftest.Discard, method, path string, fresh bool) func() {
	req := httptest.NewRequest(method, path, nil)
	body := &stringsR{s: `{"name":"w"}`}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(body.s))
	}
	return func() {
		if method == "POST" {
			body.i = 0
			req.Body = body
		}
		if fresh {
			freshN++
			req.URL.RawQuery = "n=" + strconv.FormatInt(freshN, 10)
		}
		w.Reset()
		app.ServeHTTP(w, req)
		if w.Status() != http.StatusOK {
			tb.Fatalf("%s %s: status %d", method, path, w.Status())
		}
	}
}

// BenchmarkCacheRatio serves the cases of BenchmarkCache in short
// alternating rounds of one run (the order rotates), so that the noise of
// a shared machine falls on all alike, and reports the median ns/op of
// each and the ratios hit/bare and not-applying/bare.
func BenchmarkCacheRatio(b *testing.B) {
	bare, with := benchApp(b, false), benchApp(b, true)
	w := graftest.NewDiscard()
	cases := []func(){
		served(b, bare, w, "GET", "/item", false),
		served(b, with, w, "GET", "/item", false),
		served(b, bare, w, "POST", "/item", false),
		served(b, with, w, "POST", "/item", false),
	}
	cases[1]() // the entry
	const round = 200
	times := make([][]float64, len(cases))
	n := 0
	for b.Loop() {
		if n%round == 0 {
			r := len(times[0])
			for i := range cases {
				k := (i + r) % len(cases)
				start := time.Now()
				for range round {
					cases[k]()
				}
				times[k] = append(times[k], float64(time.Since(start).Nanoseconds())/round)
			}
		}
		n++
	}
	med := make([]float64, len(cases))
	for i, v := range times {
		slices.Sort(v)
		med[i] = v[len(v)/2]
	}
	b.ReportMetric(med[0], "get-bare-ns/op")
	b.ReportMetric(med[1], "get-hit-ns/op")
	b.ReportMetric(med[2], "post-bare-ns/op")
	b.ReportMetric(med[3], "post-not-applying-ns/op")
	b.ReportMetric(med[1]/med[0], "hit/bare")
	b.ReportMetric(med[3]/med[2], "not-applying/bare")
}
