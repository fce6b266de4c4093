package graft

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// flushWriter is a discarding ResponseWriter that can flush, as net/http's
// can, so that a stream is measured without the network.
type flushWriter struct {
	nopWriter
	n, flushes int
}

func (w *flushWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *flushWriter) Flush()                      { w.flushes++ }

// SetWriteDeadline is there as on net/http's writer, which streams clear.
func (w *flushWriter) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkSSE serves one stream of 100 JSON events per op (each flushed)
// and, for comparison, one typed JSON answer of the same event.
func BenchmarkSSE(b *testing.B) {
	type price struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
		Seq    int     `json:"seq"`
	}
	app := New(Config{Logger: discardLogger()})
	SSE(app, "/prices", func(_ context.Context, _ *struct{}, s *Stream[price]) error {
		for i := range 100 {
			if err := s.Send(price{Symbol: "GRFT", Price: 12.5, Seq: i}); err != nil {
				return err
			}
		}
		return nil
	})
	type one struct{ Body price }
	Get(app, "/price", func(context.Context, *struct{}) (*one, error) {
		return &one{Body: price{Symbol: "GRFT", Price: 12.5, Seq: 1}}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(context.Background())
	run := func(b *testing.B, path string, flushes int) {
		r := httptest.NewRequest("GET", path, nil)
		w := &flushWriter{nopWriter: nopWriter{h: http.Header{}}}
		app.ServeHTTP(w, r)
		if w.flushes != flushes || w.n == 0 {
			b.Fatalf("%s: %d flushes, %d bytes", path, w.flushes, w.n)
		}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			app.ServeHTTP(w, r)
		}
	}
	b.Run("stream100", func(b *testing.B) { run(b, "/prices", 100) })
	b.Run("typed1", func(b *testing.B) { run(b, "/price", 0) })
	// The same stream written by hand on net/http: headers, then
	// json.Marshal, "data: …\n\n" and a flush per event.
	b.Run("nethttp100", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			f := w.(http.Flusher)
			for i := range 100 {
				d, err := json.Marshal(price{Symbol: "GRFT", Price: 12.5, Seq: i})
				if err != nil {
					return
				}
				if _, err := fmt.Fprintf(w, "data: %s\n\n", d); err != nil || r.Context().Err() != nil {
					return
				}
				f.Flush()
			}
		})
		r := httptest.NewRequest("GET", "/prices", nil)
		w := &flushWriter{nopWriter: nopWriter{h: http.Header{}}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
	// Over a loopback connection, read by a real client (whose work and
	// allocations are counted too).
	b.Run("loopback100", func(b *testing.B) {
		srv := httptest.NewServer(app)
		defer srv.Close()
		cl := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			res, err := cl.Get(srv.URL + "/prices")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil || n < int64(100*len("data: {}\n\n")) {
				b.Fatalf("%d bytes, %v", n, err)
			}
		}
	})
}

// Events allocate nothing: a stream of 100 events costs the allocations of
// a stream of 10.
func TestSSEEventAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector (sync.Pool drops items)")
	}
	app := New(Config{Logger: discardLogger()})
	type in struct {
		N int `query:"n"`
	}
	SSE(app, "/n", func(_ context.Context, in *in, s *Stream[tick]) error {
		for i := range in.N {
			if err := s.Send(tick{N: i, Note: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	allocs := func(n int) float64 {
		r := httptest.NewRequest("GET", "/n?n="+strconv.Itoa(n), nil)
		w := &flushWriter{nopWriter: nopWriter{h: http.Header{}}}
		app.ServeHTTP(w, r) // warm the pools
		if w.flushes != n {
			t.Fatalf("%d events: %d flushes", n, w.flushes)
		}
		return testing.AllocsPerRun(50, func() {
			clear(w.h)
			app.ServeHTTP(w, r)
		})
	}
	if a10, a100 := allocs(10), allocs(100); a10 != a100 {
		t.Errorf("a stream of 10 events allocates %v times, of 100 events %v: events allocate", a10, a100)
	}
}
