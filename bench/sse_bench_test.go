package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/sse"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gofiber/fiber/v3"
	"github.com/graftgo/graft"
	"github.com/labstack/echo/v4"
	"github.com/valyala/fasthttp"
)

// The SSE case: GET /events answers text/event-stream with sseEvents
// events, each `event: tick` with the JSON data {"n":i}, flushed one by one
// as a live stream is, in every framework the way it documents streaming.

const sseEvents = 100

type tick struct {
	N int `json:"n"`
}

// flushWriter is the discarding writer with the http.Flusher a streaming
// handler needs; it counts flushes for the tests.
type flushWriter struct {
	*discardWriter
	flushes int
	body    strings.Builder
	keep    bool
}

func (w *flushWriter) Flush() { w.flushes++ }

// SetWriteDeadline is there because net/http's writer has it (through
// http.ResponseController): streaming code that extends its deadline takes
// the production path.
func (w *flushWriter) SetWriteDeadline(time.Time) error { return nil }

func (w *flushWriter) Write(b []byte) (int, error) {
	if w.keep {
		w.body.Write(b)
	}
	return w.discardWriter.Write(b)
}

func (w *flushWriter) WriteString(s string) (int, error) {
	if w.keep {
		w.body.WriteString(s)
	}
	return w.discardWriter.WriteString(s)
}

// writeTicks is the by-hand stream (net/http, chi, echo): encoding/json for
// each event's data, a flush after each.
func writeTicks(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	f, _ := w.(http.Flusher)
	for i := range sseEvents {
		b, err := json.Marshal(tick{N: i})
		if err != nil {
			return
		}
		_, _ = io.WriteString(w, "event: tick\ndata: ")
		_, _ = w.Write(b)
		_, _ = io.WriteString(w, "\n\n")
		if f != nil {
			f.Flush()
		}
	}
}

type sseIn struct{}

func loadGraftSSE(tb testing.TB) http.Handler {
	app := graft.New(graft.Config{Logger: quietLogger})
	graft.SSE(app, "/events", func(_ context.Context, _ *sseIn, s *graft.Stream[tick]) error {
		for i := range sseEvents {
			if err := s.SendEvent(graft.Event[tick]{Name: "tick", Data: tick{N: i}}); err != nil {
				return err
			}
		}
		return nil
	})
	return startGraft(tb, app)
}

func loadNetHTTPSSE(testing.TB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, _ *http.Request) { writeTicks(w) })
	return mux
}

func loadChiSSE(testing.TB) http.Handler {
	rt := chi.NewRouter()
	rt.Get("/events", func(w http.ResponseWriter, _ *http.Request) { writeTicks(w) })
	return rt
}

// gin: c.SSEvent per event (gin's sse package), c.Writer.Flush after each.
func loadGinSSE(testing.TB) http.Handler {
	e := gin.New()
	e.GET("/events", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		for i := range sseEvents {
			c.SSEvent("tick", tick{N: i})
			c.Writer.Flush()
		}
	})
	return e
}

// echo documents SSE by hand on c.Response() with its Flush.
func loadEchoSSE(testing.TB) http.Handler {
	e := echo.New()
	e.GET("/events", func(c echo.Context) error {
		writeTicks(c.Response())
		return nil
	})
	return e
}

// huma: its sse package (sse.Register with the event types).
func loadHumaSSE(testing.TB) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("bench", "1.0")
	cfg.CreateHooks = nil
	api := humago.New(mux, cfg)
	sse.Register(api, huma.Operation{OperationID: "events", Method: http.MethodGet, Path: "/events"},
		map[string]any{"tick": tick{}},
		func(_ context.Context, _ *struct{}, send sse.Sender) {
			for i := range sseEvents {
				if err := send.Data(tick{N: i}); err != nil {
					return
				}
			}
		})
	return mux
}

var ssePeers = []app{
	{"graft", loadGraftSSE},
	{"nethttp", loadNetHTTPSSE},
	{"chi", loadChiSSE},
	{"gin", loadGinSSE},
	{"echo", loadEchoSSE},
	{"huma", loadHumaSSE},
}

// fiber: c.SendStreamWriter with a flush per event (fasthttp runs the
// writer when the response is written out: the benchmark writes it to
// io.Discard).
func loadFiberSSE(testing.TB) fasthttp.RequestHandler {
	app := fiber.New()
	app.Get("/events", func(c fiber.Ctx) error {
		c.Set("Content-Type", "text/event-stream")
		c.Set("Cache-Control", "no-cache")
		return c.SendStreamWriter(func(w *bufio.Writer) {
			for i := range sseEvents {
				b, err := json.Marshal(tick{N: i})
				if err != nil {
					return
				}
				_, _ = w.WriteString("event: tick\ndata: ")
				_, _ = w.Write(b)
				_, _ = w.WriteString("\n\n")
				if w.Flush() != nil {
					return
				}
			}
		})
	})
	return app.Handler()
}

// checkTicks checks a stream's body: sseEvents tick events with data
// {"n":0} … in order (event name optional: Huma names its single event
// type's events "message" or omits it).
func checkTicks(t *testing.T, body string) {
	t.Helper()
	n := 0
	for line := range strings.SplitSeq(body, "\n") {
		d, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		var v tick
		if err := json.Unmarshal([]byte(strings.TrimSpace(d)), &v); err != nil || v.N != n {
			t.Fatalf("event %d: data %q (%v)", n, d, err)
		}
		n++
	}
	if n != sseEvents {
		t.Fatalf("%d events, want %d; body starts %q", n, sseEvents, body[:min(len(body), 200)])
	}
}

// TestSSEPeers checks that every peer streams the same events, flushing
// each, with the event-stream media type.
func TestSSEPeers(t *testing.T) {
	for _, p := range ssePeers {
		t.Run(p.name, func(t *testing.T) {
			w := &flushWriter{discardWriter: newDiscardWriter(), keep: true}
			p.load(t).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/events", nil))
			if ct := w.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Errorf("Content-Type %q", ct)
			}
			if w.flushes < sseEvents {
				t.Errorf("%d flushes, want at least %d", w.flushes, sseEvents)
			}
			checkTicks(t, w.body.String())
		})
	}
	t.Run("fiber", func(t *testing.T) {
		c := fiberCtx(http.MethodGet, "/events")
		loadFiberSSE(t)(c)
		var sb strings.Builder
		if err := c.Response.BodyWriteTo(&sb); err != nil {
			t.Fatal(err)
		}
		if ct := string(c.Response.Header.ContentType()); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("Content-Type %q", ct)
		}
		checkTicks(t, sb.String())
	})
}

// BenchmarkSSE streams the 100 events per op.
func BenchmarkSSE(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/events", nil)
	for _, p := range ssePeers {
		b.Run(p.name, func(b *testing.B) {
			h := p.load(b)
			w := &flushWriter{discardWriter: newDiscardWriter()}
			b.ReportAllocs()
			cpu0, ok := cpuTime()
			n := 0
			for b.Loop() {
				h.ServeHTTP(w, req)
				n++
			}
			if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
			}
			if w.flushes < n*sseEvents {
				b.Fatalf("%d flushes for %d streams", w.flushes, n)
			}
		})
	}
	b.Run("fiber", func(b *testing.B) {
		h := loadFiberSSE(b)
		c := fiberCtx(http.MethodGet, "/events")
		b.ReportAllocs()
		cpu0, ok := cpuTime()
		n := 0
		for b.Loop() {
			c.Response.Reset()
			h(c)
			if err := c.Response.BodyWriteTo(io.Discard); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
			b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
		}
	})
}
