package graft_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// The worked third-party extension of docs/extensions.md: a request-id
// extension and an access log that requires it, shipped as one pack.

// ridValue is the request's id: a property, fresh per request.
var ridValue = graft.NewProperty[string]("example.requestid", nil)

// ridIncoming is the typed request header the id may arrive in.
var ridIncoming = graft.NewHeaderField("X-Request-Id", func(s string) (string, error) {
	if len(s) > 64 {
		return "", fmt.Errorf("longer than 64 bytes")
	}
	return s, nil
}, func(s string) string { return s })

// RequestIDs is the request-id extension; Header is its configuration.
type RequestIDs struct {
	Header string
	prefix *string // a flag, defined at Register
	seq    atomic.Int64
}

func (*RequestIDs) ID() string { return "example.requestid" }

// DefineFlags adds the extension's flag before Run parses the command line.
func (r *RequestIDs) DefineFlags(fs *flag.FlagSet) {
	r.prefix = fs.String("request-id-prefix", "req-", "prefix of generated request ids")
}

func (r *RequestIDs) Extend(b *graft.Builder) error {
	b.Property(ridValue)
	b.HeaderField(ridIncoming)
	// context: honour an incoming id or make one
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			id, ok, err := ridIncoming.Get(c)
			if err != nil || !ok {
				id = *r.prefix + strconv.FormatInt(r.seq.Add(1), 10)
			}
			ridValue.Set(c, id)
			return next(c)
		}
	})
	// response headers: on every answer, errors included
	b.OnWriteHeader(func(c *graft.Ctx, _ int) { c.Response().Header().Set(r.Header, ridValue.Get(c)) })
	// dependency graph and plugins: typed endpoints get the id in a
	// plugin:"" field
	di.Value(b.Graph(), r)
	b.Plugins(graft.NamedPlugin("requestid", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		f := graft.PluginField[RequestIDField](sig)
		if f == nil {
			return next, nil // the endpoint takes no request id: nothing to do
		}
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			f.Set(in, RequestIDField(ridValue.Get(c)))
			return next(ctx, c, in)
		}, nil
	})))
	return nil
}

// RequestIDField is the type of a typed endpoint's plugin:"" field that
// receives the request id.
type RequestIDField string

// IDs is the extension's mixin: c.RequestID() on the app's context.
type IDs struct {
	graft.MixinOf[*RequestIDs]
}

// RequestID returns the request's id.
func (m *IDs) RequestID() string { return ridValue.Get(m.Ctx()) }

// logSink is the access log's router-level resource, published per scope.
var logSink = graft.NewScopeValue[io.Writer]("example.accesslog.sink")

// AccessLog writes one line per answer, with the request id.
type AccessLog struct {
	Out io.Writer
	b   *graft.Builder
	rid *RequestIDs
}

func (*AccessLog) ID() string         { return "example.accesslog" }
func (*AccessLog) Requires() []string { return []string{"example.requestid"} }

func (l *AccessLog) Extend(b *graft.Builder) error {
	rid, err := graft.Require[*RequestIDs](b) // a typed handle on what it requires
	if err != nil {
		return err
	}
	l.b, l.rid = b, rid
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c) // the answer is finished: final status and size
			fmt.Fprintf(logSink.Get(c), "%s %s %d %dB %s=%s\n", c.Request.Method, c.Request.URL.Path,
				c.StatusCode(), c.BytesWritten(), l.rid.Header, ridValue.Get(c))
			return err
		}
	})
	return nil
}

// Provision runs once every extension was extended: the sink is published
// for the scope the log was registered on.
func (l *AccessLog) Provision(context.Context) error {
	logSink.Set(l.b, l.Out)
	return nil
}

// Cleanup runs at shutdown, and after a failed start, once Provision ran.
func (l *AccessLog) Cleanup() error {
	fmt.Fprintln(l.Out, "access log closed")
	return nil
}

// exampleCtx composes graft.Ctx with the extension's mixin.
type exampleCtx struct {
	graft.Ctx
	IDs
}

type whoIn struct {
	Name string         `path:"name"`
	RID  RequestIDField `plugin:""`
}

type whoOut struct{ Body string }

func Example_extension() {
	var log strings.Builder
	app := graft.NewWithContext[exampleCtx](graft.Config{})
	app.Register(graft.Pack("example.observability",
		&RequestIDs{Header: "X-Request-Id"},
		&AccessLog{Out: &log},
	))
	app.GET("/plain", func(c *exampleCtx) error { return c.Text(200, "id "+c.RequestID()) })
	graft.Get(app, "/who/{name}", func(_ context.Context, in *whoIn) (*whoOut, error) {
		return &whoOut{Body: in.Name + " has " + string(in.RID)}, nil
	})
	if err := app.ParseFlags([]string{"--request-id-prefix", "r"}); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	for _, req := range []struct{ path, id string }{{"/plain", ""}, {"/who/ann", "abc"}, {"/missing", ""}} {
		r, _ := http.NewRequest("GET", srv.URL+req.path, nil)
		if req.id != "" {
			r.Header.Set("X-Request-Id", req.id)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s %q\n", res.StatusCode, res.Header.Get("X-Request-Id"), strings.SplitN(string(body), "\n", 2)[0])
	}
	app.Stop(context.Background())
	fmt.Print(log.String())
	// Output:
	// 200 r1 "id r1"
	// 200 abc "ann has abc"
	// 404 r2 "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,\"detail\":\"no route matches this path\",\"instance\":\"/missing\"}"
	// GET /plain 200 5B X-Request-Id=r1
	// GET /who/ann 200 11B X-Request-Id=abc
	// GET /missing 404 115B X-Request-Id=r2
	// access log closed
}
