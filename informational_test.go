package graft

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"
	"time"
)

// TestEarlyHintsThenFinalStatus: a 103 Early Hints goes out with the
// headers set so far, and the final status the handler writes afterwards
// is the one the client, the response-header hooks and StatusCode see.
// Before, the 1xx counted as the response's status: the final 201 was
// dropped (the client got 200) and the hooks ran for 103.
func TestEarlyHintsThenFinalStatus(t *testing.T) {
	app, _ := newApp(t, Config{})
	var mu sync.Mutex
	var hooked []int
	var seen int
	app.Register(ExtensionFunc("hook", func(b *Builder) error {
		b.OnWriteHeader(func(c *Ctx, status int) {
			mu.Lock()
			hooked = append(hooked, status)
			mu.Unlock()
			c.Response().Header().Set("X-Hooked", "yes")
		})
		return nil
	}))
	app.POST("/items", func(c *Ctx) error {
		c.Response().Header().Set("Link", "</app.css>; rel=preload; as=style")
		c.Status(http.StatusEarlyHints)
		if c.Written() {
			t.Error("Written() after a 103: the final status is still to come")
		}
		c.Response().Header().Del("Link")
		c.Status(http.StatusCreated)
		_, err := io.WriteString(c.Response(), "made")
		mu.Lock()
		seen = c.StatusCode()
		mu.Unlock()
		return err
	})
	srv := serveTest(t, app)

	var hints []textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			hints = append(hints, h)
		}
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/items", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || string(body) != "made" {
		t.Fatalf("final answer %d %q, want 201 \"made\"", res.StatusCode, body)
	}
	if len(hints) != 1 || hints[0].Get("Link") == "" {
		t.Fatalf("103 responses %v, want one with the Link header", hints)
	}
	if hints[0].Get("X-Hooked") != "" {
		t.Error("the header hooks ran for the 103; they belong to the final status")
	}
	if res.Header.Get("X-Hooked") != "yes" || res.Header.Get("Link") != "" {
		t.Errorf("final headers %v: want X-Hooked and no Link", res.Header)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != 1 || hooked[0] != http.StatusCreated {
		t.Errorf("hooks ran for %v, want once for 201", hooked)
	}
	if seen != http.StatusCreated {
		t.Errorf("StatusCode() = %d, want 201", seen)
	}
}
