package jwt_test

import (
	"context"
	"net/http/httptest"
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	graftjwt "github.com/graftgo/graft/plugins/auth/jwt"
)

type meClaimsIn struct {
	Claims *Claims `plugin:""`
	Name   string  `query:"name"`
}

// BenchmarkJWT serves GET /open (no claims field) without and with the
// plugin applied, and GET /me with a valid HS256 token: the plugin leaves
// /open as it is, so bare and untouched cost the same.
func BenchmarkJWT(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	build := func(withPlugin bool) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if withPlugin {
			app.UsePlugins(graftjwt.New[Claims](graftjwt.Config{Algorithms: []string{"HS256"}, Key: secret, Audience: "notes"}))
		}
		graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) { return &openOut{Body: in.Name}, nil })
		if withPlugin {
			graft.Get(app, "/me", func(_ context.Context, in *meClaimsIn) (*openOut, error) {
				return &openOut{Body: in.Claims.Subject}, nil
			})
		}
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { app.Stop(context.Background()) })
		return app
	}
	run := func(b *testing.B, app *graft.App[graft.Ctx], target, auth string) {
		req := httptest.NewRequest("GET", target, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
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
	bare, with := build(false), build(true)
	tok := sign(b, gojwt.SigningMethodHS256, valid(), secret)
	b.Run("bare", func(b *testing.B) { run(b, bare, "/open?name=x", "") })
	b.Run("untouched", func(b *testing.B) { run(b, with, "/open?name=x", "") })
	b.Run("verified-HS256", func(b *testing.B) { run(b, with, "/me", "Bearer "+tok) })
}
