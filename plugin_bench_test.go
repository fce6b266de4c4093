package graft_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Costs of graft's own extension points, for docs/benchmarks.md: one
// extension next to none and ten (BenchmarkExtensionOverhead), and typed
// endpoints with 0, 1 and 5 plugins, each wrapping the endpoint, plus 5
// plugins that do not apply to it (they return next: free by design).

type oneCtx struct {
	graft.Ctx
	benchMixin0
}

func oneApp(pool int, use bool) http.Handler {
	app := graft.NewWithContext[oneCtx](graft.Config{RequestPoolMaxItems: pool})
	app.Register(benchExt0{})
	app.GET("/x/{id}", func(c *oneCtx) error {
		if use {
			c.M0()
		}
		return c.Text(200, c.Param("id"))
	})
	return app
}

// BenchmarkExtensionOne is BenchmarkExtensionOverhead's middle row: one
// property-and-method extension, pools on and off.
func BenchmarkExtensionOne(b *testing.B) {
	req, _ := http.NewRequest("GET", "/x/42", nil)
	for _, pool := range []struct {
		name string
		n    int
	}{{"pooled", 0}, {"unpooled", -1}} {
		b.Run("one/"+pool.name, func(b *testing.B) { serveLoop(b, oneApp(pool.n, false), req) })
		b.Run("one-used/"+pool.name, func(b *testing.B) { serveLoop(b, oneApp(pool.n, true), req) })
	}
}

type plugIn struct {
	ID int `path:"id"`
}

type plugOut struct{ Body int }

// countingPlugin wraps every endpoint with a counter: the least a plugin
// that applies can do per request.
func countingPlugin(n *atomic.Int64) graft.Plugin {
	return graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, _ *graft.Signature) (graft.Endpoint, error) {
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			n.Add(1)
			return next(ctx, c, in)
		}, nil
	})
}

// skippingPlugin applies to no endpoint of this app (none declares a
// plugin field of its type): it returns next unchanged.
func skippingPlugin() graft.Plugin {
	return graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		if graft.PluginField[*Clock](sig) == nil {
			return next, nil
		}
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) { return next(ctx, c, in) }, nil
	})
}

func pluginApp(plugins []graft.Plugin) http.Handler {
	app := graft.New(graft.Config{})
	graft.Get(app, "/x/{id}", func(_ context.Context, in *plugIn) (*plugOut, error) {
		return &plugOut{Body: in.ID}, nil
	}, graft.Plugins(plugins...))
	return app
}

func pluginSets(n *atomic.Int64) []struct {
	name    string
	plugins []graft.Plugin
} {
	five := make([]graft.Plugin, 5)
	skip := make([]graft.Plugin, 5)
	for i := range five {
		five[i] = countingPlugin(n)
		skip[i] = skippingPlugin()
	}
	return []struct {
		name    string
		plugins []graft.Plugin
	}{
		{"0", nil},
		{"1", five[:1]},
		{"5", five},
		{"5-not-applying", skip},
	}
}

// BenchmarkPluginOverhead serves a typed endpoint with 0, 1 and 5
// wrapping plugins, and with 5 that do not apply.
func BenchmarkPluginOverhead(b *testing.B) {
	req, _ := http.NewRequest("GET", "/x/42", nil)
	var n atomic.Int64
	for _, set := range pluginSets(&n) {
		b.Run(set.name, func(b *testing.B) { serveLoop(b, pluginApp(set.plugins), req) })
	}
}

// TestPluginOverheadAllocs pins what the benchmark shows: a wrapping
// plugin adds no allocation, and plugins that do not apply are not on the
// request path at all (the counter sees every wrapped call).
func TestPluginOverheadAllocs(t *testing.T) {
	if graft.RaceEnabled {
		t.Skip("allocation counts are not pinned under the race detector (sync.Pool drops items)")
	}
	req, _ := http.NewRequest("GET", "/x/42", nil)
	w := newDiscard()
	var n atomic.Int64
	base := -1.0
	for _, set := range pluginSets(&n) {
		h := pluginApp(set.plugins)
		h.ServeHTTP(w, req) // start the app
		n.Store(0)
		allocs := testing.AllocsPerRun(200, func() { clear(w.h); h.ServeHTTP(w, req) })
		if base < 0 {
			base = allocs
		}
		if allocs != base {
			t.Errorf("%s plugins: %v allocations per request, want %v as with none", set.name, allocs, base)
		}
		want := int64(0)
		switch set.name {
		case "1":
			want = 201
		case "5":
			want = 5 * 201
		}
		if got := n.Load(); got != want {
			t.Errorf("%s plugins: wrapped %d times over 201 requests, want %d", set.name, got, want)
		}
	}
}
