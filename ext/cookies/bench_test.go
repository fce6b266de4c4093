package cookies_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
	"github.com/graftgo/graft/graftest"
)

// BenchmarkCookies: a bare handler, a plain cookie, and signed and
// encrypted cookies set and read, through app.ServeHTTP.
func BenchmarkCookies(b *testing.B) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Path: "/", Keys: [][]byte{keyA, keyB}}))
	app.GET("/bare", func(c *Ctx) error { return c.Text(200, "ok") })
	app.GET("/plain", func(c *Ctx) error { c.PutCookie("s", c.CookieValue("s")+"x"); return c.Text(200, "ok") })
	app.GET("/signed/put", func(c *Ctx) error { _ = c.PutSigned("s", "user-42"); return c.Text(200, "ok") })
	app.GET("/signed/get", func(c *Ctx) error { v, _ := c.SignedCookie("s"); return c.Text(200, v) })
	app.GET("/encrypted/put", func(c *Ctx) error { _ = c.PutEncrypted("s", "user-42"); return c.Text(200, "ok") })
	app.GET("/encrypted/get", func(c *Ctx) error { v, _ := c.EncryptedCookie("s"); return c.Text(200, v) })
	if err := app.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(b.Context())
	codec, _ := cookies.NewCodec(keyA)
	exp := time.Now().Add(time.Hour)
	cookie := map[string]string{
		"/plain":         "s=abc",
		"/signed/get":    "s=" + codec.Sign("s", "user-42", exp),
		"/encrypted/get": "s=" + codec.Seal("s", "user-42", exp),
	}
	for _, p := range []string{"/bare", "/plain", "/signed/put", "/signed/get", "/encrypted/put", "/encrypted/get"} {
		b.Run(p[1:], func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", p, nil)
			if ck := cookie[p]; ck != "" {
				req.Header.Set("Cookie", ck)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				app.ServeHTTP(w, req)
			}
		})
	}
}
