package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/logging"
	"github.com/graftgo/graft/plugins/metrics"
	"github.com/graftgo/graft/plugins/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discardExporter is a span exporter that drops what the SDK's batch
// processor hands it: the SDK's whole cost of a sampled span, no I/O.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// provider returns an SDK tracer provider with a batch processor, sampling
// every trace or none.
func provider(tb testing.TB, sampled bool) *sdktrace.TracerProvider {
	s := sdktrace.NeverSample()
	if sampled {
		s = sdktrace.AlwaysSample()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(s)), sdktrace.WithBatcher(discardExporter{}))
	tb.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// enabledDiscard is an slog handler that is enabled and drops the record:
// what the access log itself costs, without a handler's formatting.
type enabledDiscard struct{}

func (enabledDiscard) Enabled(context.Context, slog.Level) bool  { return true }
func (enabledDiscard) Handle(context.Context, slog.Record) error { return nil }
func (h enabledDiscard) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h enabledDiscard) WithGroup(string) slog.Handler           { return h }

// build returns a started app serving GET /users/{id} with the given
// extensions.
func build(tb testing.TB, exts ...graft.Extension) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(exts...)
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user") })
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

func observability(tb testing.TB, logger slog.Handler, sampled bool) []graft.Extension {
	return []graft.Extension{
		logging.New(logging.Config{Logger: slog.New(logger)}),
		metrics.New(metrics.Config{}),
		tracing.New(tracing.Config{TracerProvider: provider(tb, sampled)}),
	}
}

// BenchmarkObservability serves a plain handler bare, with each of
// tracing, metrics and logging alone, and with the three together: the
// access log's record handed to an enabled handler that drops it (the
// extensions' own cost) or formatted by slog's JSONHandler to io.Discard,
// spans sampled (batch processor, discarding exporter) or not.
func BenchmarkObservability(b *testing.B) {
	for _, bc := range []struct {
		name        string
		app         *graft.App[graft.Ctx]
		traceparent string
	}{
		{"bare", build(b), ""},
		{"tracing-sampled", build(b, tracing.New(tracing.Config{TracerProvider: provider(b, true)})), ""},
		{"tracing-unsampled", build(b, tracing.New(tracing.Config{TracerProvider: provider(b, false)})), ""},
		// A caller's traceparent that says not sampled: the default
		// ParentBased sampler drops the span.
		{"tracing-unsampled-parent", build(b, tracing.New(tracing.Config{TracerProvider: provider(b, true)})),
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
		{"metrics", build(b, metrics.New(metrics.Config{})), ""},
		{"logging", build(b, logging.New(logging.Config{Logger: slog.New(enabledDiscard{})})), ""},
		{"logging-json", build(b, logging.New(logging.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})), ""},
		{"all-sampled", build(b, observability(b, enabledDiscard{}, true)...), ""},
		{"all-unsampled", build(b, observability(b, enabledDiscard{}, false)...), ""},
		{"all-sampled-json", build(b, observability(b, slog.NewJSONHandler(io.Discard, nil), true)...), ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/users/7", nil)
			if bc.traceparent != "" {
				req.Header.Set("Traceparent", bc.traceparent)
			}
			w := graftest.NewDiscard()
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				bc.app.ServeHTTP(w, req)
				if w.Status() != 200 {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// TestAllocs: an unsampled span costs two allocations beyond the bare
// request (the SDK's non-recording span and the context carrying it);
// the extension adds none of its own (graft.Ctx.SetContext hands the
// context on without a request copy, the span names are made once per
// route at start-up, the start options are shared, attributes are built
// only for recording spans). Logging and metrics add none.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need the race detector off: it makes sync.Pool drop items")
	}
	allocs := func(app *graft.App[graft.Ctx]) float64 {
		req := httptest.NewRequest("GET", "/users/7", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base := allocs(build(t))
	if got := allocs(build(t, tracing.New(tracing.Config{TracerProvider: provider(t, false)}))); got != base+2 {
		t.Errorf("unsampled span: %v allocs, want bare %v + 2", got, base)
	}
	if got := allocs(build(t, observability(t, enabledDiscard{}, false)...)); got != base+2 {
		t.Errorf("logging, metrics and an unsampled span: %v allocs, want bare %v + 2", got, base)
	}
}

// BenchmarkObservabilityDelta serves the bare app and the app with all
// three extensions (access log to an enabled discarding handler, metrics,
// tracing unsampled and sampled), and each alone, in short alternating rounds, so that the
// load of a shared machine hits all of them alike, and reports the
// medians of the rounds' ns per request and of the differences to bare
// (its own ns/op is the loop's; read the metrics).
func BenchmarkObservabilityDelta(b *testing.B) {
	apps := []*graft.App[graft.Ctx]{
		build(b),
		build(b, logging.New(logging.Config{Logger: slog.New(enabledDiscard{})})),
		build(b, metrics.New(metrics.Config{})),
		build(b, tracing.New(tracing.Config{TracerProvider: provider(b, false)})),
		build(b, observability(b, enabledDiscard{}, false)...),
		build(b, observability(b, enabledDiscard{}, true)...),
	}
	names := []string{"bare", "logging", "metrics", "tracing-unsampled", "all-unsampled", "all-sampled"}
	req := httptest.NewRequest("GET", "/users/7", nil)
	w := graftest.NewDiscard()
	const round = 500
	per := make([][]float64, len(apps))
	b.ReportAllocs()
	for done := 0; done < b.N; done += round {
		for i, app := range apps {
			start := time.Now()
			for range round {
				w.Reset()
				app.ServeHTTP(w, req)
			}
			if w.Status() != 200 {
				b.Fatalf("%s: status %d", names[i], w.Status())
			}
			per[i] = append(per[i], float64(time.Since(start).Nanoseconds())/round)
		}
	}
	for i := range apps {
		b.ReportMetric(median(per[i]), names[i]+"-ns")
		if i > 0 {
			d := make([]float64, len(per[i]))
			for j := range d {
				d[j] = per[i][j] - per[0][j]
			}
			b.ReportMetric(median(d), names[i]+"-delta-ns")
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
