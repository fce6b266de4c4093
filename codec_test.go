package graft_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
)

// Ctx.Accepts: a zero quality in any spelling refuses a type (only "q=0"
// did), and the most specific matching range decides.
func TestAcceptsQuality(t *testing.T) {
	app := graft.New(graft.Config{})
	app.GET("/accepts", func(c *graft.Ctx) error {
		if c.Accepts(c.Query("type")) {
			return c.Text(http.StatusOK, "yes")
		}
		return c.Text(http.StatusOK, "no")
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	const mp, js = "application/msgpack", "application/json"
	cases := []struct {
		accept, mt, want string
	}{
		{"", mp, "yes"},
		{mp, mp, "yes"},
		{js, mp, "no"},
		{mp + ";q=0", mp, "no"},
		{mp + ";q=0.0", mp, "no"},
		{mp + "; q=0.000", mp, "no"},
		{mp + ";Q=0.00", mp, "no"},
		{mp + ";q=0.001", mp, "yes"},
		{mp + ";q=0.5", mp, "yes"},
		{"*/*", mp, "yes"},
		{"*/*;q=0", mp, "no"},
		{"application/*", mp, "yes"},
		{"text/*", mp, "no"},
		{"*/*, " + mp + ";q=0", mp, "no"},       // the specific range wins
		{mp + ";q=0, */*", mp, "no"},            // in any order
		{"application/*;q=0, " + mp, mp, "yes"}, // here too
		{"*/*, " + mp + ";q=0", js, "yes"},
		{js + ", " + mp + ";q=0.0", js, "yes"},
	}
	for _, tc := range cases {
		hdr := map[string]string{}
		if tc.accept != "" {
			hdr["Accept"] = tc.accept
		}
		st, _, body := get(t, srv, "GET", "/accepts?type="+tc.mt, hdr)
		if st != http.StatusOK || body != tc.want {
			t.Errorf("Accept %q, Accepts(%s) = %d %s, want %s", tc.accept, tc.mt, st, body, tc.want)
		}
	}
}

// TestRenderHonoursSpecificRanges: Render weighs each registered media
// type by the most specific Accept range that covers it, as Accepts does:
// a type refused by name (q=0) is not chosen through */*, and a wildcard
// gives a type the range's quality.
func TestRenderHonoursSpecificRanges(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(graft.ExtensionFunc("t.text", func(b *graft.Builder) error {
		b.Encoder("text/plain", func(v any) ([]byte, error) { return []byte("text"), nil })
		return nil
	}))
	app.GET("/r", func(c *graft.Ctx) error { return c.Render(http.StatusOK, 1) })
	srv := httptest.NewServer(app)
	defer srv.Close()
	const js, txt = "application/json", "text/plain"
	for accept, want := range map[string]string{
		"":                                "application/json",
		"*/*":                             js,
		"*/*;q=0.5, application/json;q=0": txt, // JSON refused by name: not through */*
		"application/json;q=0, */*":       txt,
		"text/*;q=0.9, */*;q=0.1":         txt,
		"text/*;q=0.1, */*;q=0.9":         js,
		"text/plain, application/json":    txt, // a tie: the first in the header
		"TEXT/PLAIN;Q=0.2, application/*": js,
		"*/*;q=0.5, application/json;q=0, text/plain;q=0": "406",
	} {
		hdr := map[string]string{}
		if accept != "" {
			hdr["Accept"] = accept
		}
		st, h, _ := get(t, srv, "GET", "/r", hdr)
		got := h.Get("Content-Type")
		if st == http.StatusNotAcceptable {
			got = "406"
		}
		if got != want {
			t.Errorf("Accept %q: %d %s, want %s", accept, st, got, want)
		}
	}
}
