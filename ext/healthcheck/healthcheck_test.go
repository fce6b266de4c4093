package healthcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/healthcheck"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// upstream is an extension with a real dependency, a TCP service, that
// contributes its readiness check through graft.Require.
type upstream struct {
	addr string
}

func (*upstream) ID() string         { return "test.upstream" }
func (*upstream) Requires() []string { return []string{healthcheck.ID} }
func (u *upstream) Extend(b *graft.Builder) error {
	hc, err := graft.Require[*healthcheck.Health](b)
	if err != nil {
		return err
	}
	return hc.AddCheck("upstream", func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", u.addr)
		if err != nil {
			return errors.New("upstream unreachable")
		}
		return conn.Close()
	})
}

type report struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	Failed []string          `json:"failed"`
}

func getJSON(t *testing.T, url string) (int, report, *http.Response) {
	t.Helper()
	cl := &http.Client{Timeout: 10 * time.Second}
	res, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v in %q", url, err, b)
	}
	return res.StatusCode, r, res
}

func TestLivenessAndReadiness(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	app := graft.New(graft.Config{})
	hc := healthcheck.Extension(healthcheck.Options{})
	app.Register(hc, &upstream{addr: ln.Addr().String()})
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	code, r, res := getJSON(t, srv.URL+"/healthz")
	if code != 200 || r.Status != "ok" || res.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("/healthz: %d %+v %v", code, r, res.Header)
	}
	code, r, _ = getJSON(t, srv.URL+"/readyz")
	if code != 200 || r.Status != "ok" || r.Checks["upstream"] != "ok" || len(r.Failed) != 0 {
		t.Errorf("/readyz with the upstream up: %d %+v", code, r)
	}
	if got := hc.Names(); len(got) != 1 || got[0] != "upstream" {
		t.Errorf("Names %v", got)
	}

	ln.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("waited 5s for the upstream listener to close")
	}
	code, r, _ = getJSON(t, srv.URL+"/readyz")
	if code != 503 || r.Status != "unavailable" || r.Checks["upstream"] != "upstream unreachable" || len(r.Failed) != 1 || r.Failed[0] != "upstream" {
		t.Errorf("/readyz with the upstream down: %d %+v", code, r)
	}
	if code, r, _ := getJSON(t, srv.URL+"/healthz"); code != 200 || r.Status != "ok" {
		t.Errorf("/healthz must not depend on readiness: %d %+v", code, r)
	}
}

func TestChecksRunWithADeadline(t *testing.T) {
	hc := healthcheck.Extension(healthcheck.Options{Timeout: 100 * time.Millisecond, LivePath: "/live", ReadyPath: "/ready"})
	for _, err := range []error{
		hc.AddCheck("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }),
		hc.AddCheck("ignores-deadline", func(ctx context.Context) error {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done(): // still honours it eventually (goleak), just late
				time.Sleep(50 * time.Millisecond)
			}
			return nil
		}),
		hc.AddCheck("panics", func(context.Context) error { panic("kaboom") }),
		hc.AddCheck("fine", func(context.Context) error { return nil }),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	app := graft.New(graft.Config{})
	app.Register(hc)
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	start := time.Now()
	code, r, _ := getJSON(t, srv.URL+"/ready")
	took := time.Since(start)
	want := map[string]string{"slow": "timeout after 100ms", "ignores-deadline": "timeout after 100ms", "panics": "panic: kaboom", "fine": "ok"}
	if code != 503 || r.Status != "unavailable" {
		t.Errorf("status %d %q", code, r.Status)
	}
	for k, v := range want {
		if r.Checks[k] != v {
			t.Errorf("check %s: %q, want %q", k, r.Checks[k], v)
		}
	}
	if strings.Join(r.Failed, ",") != "ignores-deadline,panics,slow" {
		t.Errorf("failed %v", r.Failed)
	}
	if took >= 300*time.Millisecond {
		t.Errorf("the answer waited for the late check (%v): the deadline did not bound it", took)
	}
	time.Sleep(100 * time.Millisecond) // let the late check end before goleak looks
}

func TestNotReadyOnceStopping(t *testing.T) {
	hc := healthcheck.Extension(healthcheck.Options{})
	app := graft.New(graft.Config{})
	app.Register(hc)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := hc.Run(context.Background()); r.Status != "ok" {
		t.Fatalf("before stopping: %+v", r)
	}
	var during healthcheck.Report
	// A hook registered after the extension's runs after it at shutdown.
	app.OnShutdown(func(context.Context) { during = hc.Run(context.Background()) })
	app.Stop(context.Background())
	if during.Status != "unavailable" || during.Checks["shutdown"] != "the app is stopping" {
		t.Errorf("readiness while stopping: %+v", during)
	}
}

func TestSetupMistakes(t *testing.T) {
	hc := healthcheck.Extension(healthcheck.Options{})
	for _, tc := range []struct {
		name string
		fn   healthcheck.Check
		want string
	}{
		{"", func(context.Context) error { return nil }, "plain, non-empty name"},
		{"a", nil, "the check is nil"},
		{"b", func(context.Context) error { return nil }, ""},
		{"b", func(context.Context) error { return nil }, "exists already"},
	} {
		err := hc.AddCheck(tc.name, tc.fn)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("AddCheck(%q): %v, want %q", tc.name, err, tc.want)
		}
	}
	app := graft.New(graft.Config{})
	app.Register(hc)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := hc.AddCheck("late", func(context.Context) error { return nil }); err == nil || !strings.Contains(err.Error(), "after the app started") {
		t.Errorf("AddCheck after start: %v", err)
	}
	app.Stop(context.Background())

	for _, tc := range []struct {
		opts healthcheck.Options
		want string
	}{
		{healthcheck.Options{LivePath: "healthz"}, `path "healthz" must start with '/'`},
		{healthcheck.Options{LivePath: "/h", ReadyPath: "/h"}, "both"},
		{healthcheck.Options{Timeout: -time.Second}, "negative"},
	} {
		app := graft.New(graft.Config{})
		app.Register(healthcheck.Extension(tc.opts))
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%+v: started", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), healthcheck.ID) {
			t.Errorf("%+v: %v", tc.opts, err)
		}
	}
	// A contributor without the extension fails naming what is missing.
	app = graft.New(graft.Config{})
	app.Register(&upstream{addr: "127.0.0.1:1"})
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started without the healthcheck extension")
	}
	if !strings.Contains(err.Error(), healthcheck.ID) || !strings.Contains(err.Error(), "test.upstream") {
		t.Errorf("missing dependency: %v", err)
	}
}
