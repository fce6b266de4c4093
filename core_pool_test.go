package graft

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestPoolReuse(t *testing.T) {
	cases := []struct {
		max                  int
		wantMax              int
		afterStart, afterSeq int64 // Created after start and after 5 sequential requests
		same                 bool  // sequential requests see the same Ctx
	}{
		{2, 2, 2, 2, true},
		{1, 1, 1, 1, true},
		{-1, 0, 0, 5, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			app, _ := newApp(t, Config{RequestPoolMaxItems: tc.max})
			var mu sync.Mutex
			var seen []*Ctx
			app.GET("/", func(c *Ctx) error {
				mu.Lock()
				seen = append(seen, c)
				mu.Unlock()
				return c.NoContent()
			})
			if err := app.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if st := app.PoolStats(); st.Created != tc.afterStart || st.Max != tc.wantMax {
				t.Errorf("after start: %+v", st)
			}
			srv := serveTest(t, app)
			for range 5 {
				do(t, srv, "GET", "/", nil)
			}
			if st := app.PoolStats(); st.Created != tc.afterSeq {
				t.Errorf("after sequential requests: %+v, want Created %d", st, tc.afterSeq)
			}
			same := true
			for _, c := range seen[1:] {
				same = same && c == seen[0]
			}
			if same != tc.same {
				t.Errorf("sequential requests share one Ctx: %v, want %v", same, tc.same)
			}
		})
	}
}

// TestPoolOverflow holds more requests in flight than the pool keeps: the
// extra contexts are made on demand and the pool keeps only its maximum.
func TestPoolOverflow(t *testing.T) {
	const inFlight = 4
	app, _ := newApp(t, Config{RequestPoolMaxItems: 2})
	var arrived sync.WaitGroup
	arrived.Add(inFlight)
	release := make(chan struct{})
	ptrs := make(chan *Ctx, inFlight)
	app.GET("/", func(c *Ctx) error {
		ptrs <- c
		arrived.Done()
		<-release
		return c.NoContent()
	})
	srv := serveTest(t, app)
	var done sync.WaitGroup
	for range inFlight {
		done.Add(1)
		go func() {
			defer done.Done()
			do(t, srv, "GET", "/", nil)
		}()
	}
	waitGroupWithin(t, &arrived, fmt.Sprintf("%d requests to reach the handler", inFlight))
	if st := app.PoolStats(); st.Created != inFlight || st.Idle != 0 {
		t.Errorf("with %d in flight: %+v, want Created %d", inFlight, st, inFlight)
	}
	close(release)
	waitGroupWithin(t, &done, "the released requests to be answered")
	distinct := map[*Ctx]bool{}
	for range inFlight {
		distinct[<-ptrs] = true
	}
	if len(distinct) != inFlight {
		t.Errorf("%d distinct contexts for %d concurrent requests", len(distinct), inFlight)
	}
	if st := app.PoolStats(); st.Idle != 2 || st.Max != 2 {
		t.Errorf("after the burst: %+v, want 2 idle", st)
	}
	// A reused Ctx starts clean.
	app2, _ := newApp(t, Config{RequestPoolMaxItems: 1})
	app2.GET("/set/{v}", func(c *Ctx) error {
		c.SetHeader("X-V", c.Param("v"))
		_ = c.QueryValues()
		return c.Text(http.StatusTeapot, c.Param("v"))
	})
	app2.GET("/check", func(c *Ctx) error {
		if c.Written() || c.StatusCode() != 0 || c.BytesWritten() != 0 || c.Param("v") != "" || len(c.QueryValues()) != 0 {
			return fmt.Errorf("reused Ctx is dirty")
		}
		return c.Text(http.StatusOK, "clean")
	})
	srv2 := serveTest(t, app2)
	do(t, srv2, "GET", "/set/x?a=1", nil)
	if res := do(t, srv2, "GET", "/check", nil); res.status != 200 || res.header.Get("X-V") != "" {
		t.Errorf("GET /check = %d %q %v", res.status, res.body, res.header)
	}
}

// TestReleaseClearsRequestCopies: the request copies SetContext made keep
// nothing alive once the request ends, and the next request starts with
// all of them free.
func TestReleaseClearsRequestCopies(t *testing.T) {
	app, _ := newApp(t, Config{RequestPoolMaxItems: 1})
	var held *Ctx
	app.GET("/", func(c *Ctx) error {
		held = c
		if c.nreq != 0 {
			return fmt.Errorf("the request starts with %d copies in use", c.nreq)
		}
		c.SetContext(c.Context())
		c.SetContext(c.Context())
		return c.NoContent()
	})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		// ServeHTTP directly: it returns after the Ctx went back to the pool.
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusNoContent {
			t.Fatalf("status %d", w.Code)
		}
		if held.nreq != 0 || len(held.reqs) != 2 {
			t.Fatalf("after the request: %d copies in use, %d kept; want 0 and 2", held.nreq, len(held.reqs))
		}
		for i, r := range held.reqs {
			if r.Method != "" || r.URL != nil || r.Header != nil || r.Body != nil || r.Context() != context.Background() {
				t.Errorf("copy %d still holds the request: %s %v", i, r.Method, r.URL)
			}
		}
	}
}
