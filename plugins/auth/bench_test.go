package auth_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/auth"
)

type guardedIn struct {
	Client *Client `plugin:""`
	Q      string  `query:"q"`
}

// BenchmarkAuth serves GET /open (no plugin field) on an app without and
// with the plugins (bare and untouched cost the same: the plugins return
// the endpoint unchanged), and GET /g with a valid API key and valid basic
// credentials.
func BenchmarkAuth(b *testing.B) {
	build := func(p graft.Plugin) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if p != nil {
			app.UsePlugins(p)
			graft.Get(app, "/g", func(_ context.Context, in *guardedIn) (*openOut, error) { return &openOut{Body: in.Client.Name}, nil })
		}
		graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) { return &openOut{Body: in.Q}, nil })
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { app.Stop(context.Background()) })
		return app
	}
	run := func(b *testing.B, app *graft.App[graft.Ctx], target string, hdr map[string]string) {
		req := httptest.NewRequest("GET", target, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := graftest.NewDiscard()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			w.Reset()
			app.ServeHTTP(w, req)
			if w.Status() != 200 {
				b.Fatalf("status %d", w.Status())
			}
		}
	}
	bare := build(nil)
	key := build(auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys()}))
	basic := build(auth.Basic(auth.BasicConfig[*Client]{Credentials: []auth.Credential[*Client]{{User: "ada", Password: "lovelace", Value: &Client{Name: "ada"}}}}))
	b.Run("bare", func(b *testing.B) { run(b, bare, "/open?q=x", nil) })
	b.Run("untouched", func(b *testing.B) { run(b, key, "/open?q=x", nil) })
	b.Run("apikey", func(b *testing.B) { run(b, key, "/g?q=x", map[string]string{"X-API-Key": keyB}) })
	b.Run("basic", func(b *testing.B) {
		run(b, basic, "/g?q=x", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("ada:lovelace"))})
	})
}

// An endpoint without the plugin field allocates exactly as much with the
// plugins applied as without them.
func TestUntouchedEndpointCostsNothing(t *testing.T) {
	allocs := func(p graft.Plugin) float64 {
		app := graft.New(graft.Config{})
		if p != nil {
			app.UsePlugins(p)
		}
		graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) { return &openOut{Body: in.Q}, nil })
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(context.Background())
		req := httptest.NewRequest("GET", "/open?q=x", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	bare := allocs(nil)
	for name, p := range map[string]graft.Plugin{
		"apikey": auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys()}),
		"basic":  auth.Basic(auth.BasicConfig[*Client]{Credentials: []auth.Credential[*Client]{{User: "u", Password: "p"}}}),
	} {
		if got := allocs(p); got != bare {
			t.Errorf("%s: %v allocs per request on an endpoint it leaves alone, bare %v", name, got, bare)
		}
	}
}
