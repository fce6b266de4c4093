package main

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// lateProvider is the tracer provider the tracing extension is given at
// registration, before the config says whether there is an OTLP
// endpoint: its tracers use the SDK provider set at start (none: no-op).
type lateProvider struct {
	embedded.TracerProvider
	p atomic.Pointer[sdktrace.TracerProvider]
}

type lateTracer struct {
	embedded.Tracer
	lp   *lateProvider
	name string
	opts []trace.TracerOption
}

func (lp *lateProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &lateTracer{lp: lp, name: name, opts: opts}
}

func (t *lateTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if p := t.lp.p.Load(); p != nil {
		return p.Tracer(t.name, t.opts...).Start(ctx, name, opts...)
	}
	return noop.NewTracerProvider().Tracer(t.name).Start(ctx, name, opts...)
}

// startOTLP exports the spans to an OTLP/HTTP endpoint, batched.
func (lp *lateProvider) startOTLP(ctx context.Context, endpoint string) error {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return err
	}
	res := resource.NewSchemaless(semconv.ServiceName("graft-chat"))
	lp.p.Store(sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)))
	return nil
}

// stop flushes and stops the exporter.
func (lp *lateProvider) stop(ctx context.Context) error {
	if p := lp.p.Swap(nil); p != nil {
		return p.Shutdown(ctx)
	}
	return nil
}
