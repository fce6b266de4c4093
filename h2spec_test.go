package graft

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestH2Spec runs the h2spec HTTP/2 conformance suite
// (github.com/summerwind/h2spec) against graft and against a plain
// net/http server configured the same (App.httpServer with a plain
// handler), over TLS and over h2c, and fails when graft passes fewer cases
// than net/http or fails a case net/http passes. h2spec comes from PATH or
// $GOPATH/bin; scripts/h2spec and .ci/run install it. Without it the test
// is skipped, saying so, unless REQUIRE_H2SPEC=1 (set by .ci/run and
// scripts/h2spec).
// docs/reliability.md lists the figures.
func TestH2Spec(t *testing.T) {
	bin := h2specBinary()
	if bin == "" {
		if os.Getenv("REQUIRE_H2SPEC") == "1" {
			t.Fatal("h2spec is not installed and REQUIRE_H2SPEC=1: run scripts/h2spec or " +
				"go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
		}
		t.Skip("h2spec is not installed (scripts/h2spec installs it): " +
			"go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
	}
	// H2SPEC_REPORTS keeps the JUnit reports (scripts/h2spec sets it).
	dir := os.Getenv("H2SPEC_REPORTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, _ := selfSigned(t, dir)
	for _, mode := range []string{"tls", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			cfg := Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)}
			if mode == "tls" {
				cfg.SSLCert, cfg.SSLKey = certFile, keyFile
			} else {
				cfg.H2C = true
			}
			app := New(cfg)
			// h2spec sends GET and POST requests (with DATA frames) to /.
			ok := func(c *Ctx) error { return c.Text(http.StatusOK, "ok") }
			app.GET("/", ok)
			app.POST("/", ok)
			graftAddr := startApp(t, app)
			plainAddr := startPlain(t, app, cfg)

			// Both runs at once, so that they see the same machine load.
			var g, p h2specRun
			var wg sync.WaitGroup
			wg.Go(func() { g = runH2Spec(t, bin, filepath.Join(dir, mode+"-graft.xml"), graftAddr, mode == "tls") })
			wg.Go(func() { p = runH2Spec(t, bin, filepath.Join(dir, mode+"-plain.xml"), plainAddr, mode == "tls") })
			wg.Wait()
			if g.err != nil || p.err != nil {
				t.Fatalf("h2spec: graft %v, net/http %v", g.err, p.err)
			}
			if len(g.cases) < 100 || len(g.cases) != len(p.cases) {
				t.Fatalf("h2spec ran %d cases on graft and %d on net/http; want the same full suite (over 100)", len(g.cases), len(p.cases))
			}
			// A case graft fails and net/http passes is run again, alone,
			// on both (h2spec's per-case timeout can expire on a loaded
			// machine); it counts as a graft failure only if it fails
			// again while net/http passes.
			for _, id := range g.failed() {
				if p.cases[id] != h2specPass {
					continue
				}
				for range 2 {
					gr := runH2Spec(t, bin, filepath.Join(dir, mode+"-retry-graft.xml"), graftAddr, mode == "tls", id)
					pr := runH2Spec(t, bin, filepath.Join(dir, mode+"-retry-plain.xml"), plainAddr, mode == "tls", id)
					if gr.err == nil && pr.err == nil && (gr.cases[id] == h2specPass || pr.cases[id] != h2specPass) {
						g.cases[id], p.cases[id] = gr.cases[id], pr.cases[id]
						break
					}
				}
			}
			gPass, pPass := g.count(h2specPass), p.count(h2specPass)
			t.Logf("h2spec %s: graft passed %d of %d (failed %v, skipped %d); net/http passed %d of %d (failed %v, skipped %d)",
				mode, gPass, len(g.cases), g.failed(), g.count(h2specSkip), pPass, len(p.cases), p.failed(), p.count(h2specSkip))
			var worse []string
			for _, id := range g.failed() {
				if p.cases[id] == h2specPass {
					worse = append(worse, id)
				}
			}
			if gPass < pPass || len(worse) > 0 {
				t.Errorf("h2spec %s: graft passed %d cases, net/http %d; graft fails where net/http passes: %v", mode, gPass, pPass, worse)
			}
		})
	}
}

// h2specBinary finds h2spec on PATH or in $GOPATH/bin (where go install
// puts it), or returns "".
func h2specBinary() string {
	if p, err := exec.LookPath("h2spec"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(d, "bin", "h2spec")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// startPlain serves a plain net/http handler with the server settings the
// app would use (timeouts, header limit, protocols) and TLS per cfg, until
// the test ends.
func startPlain(t *testing.T, app *App[Ctx], cfg Config) string {
	t.Helper()
	srv := app.httpServer()
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.SSLCert != "" {
			errc <- srv.ServeTLS(ln, cfg.SSLCert, cfg.SSLKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("plain server: %v", err)
		}
	})
	return ln.Addr().String()
}

// h2specRun is one h2spec run's outcome per case id ("http2/6.5.3/1": the
// section and the case's position in it, as h2spec takes them on its
// command line).
type h2specRun struct {
	cases map[string]h2specOutcome
	order []string
	err   error
}

type h2specOutcome int

const (
	h2specPass h2specOutcome = iota
	h2specFail
	h2specSkip
)

func (r h2specRun) count(o h2specOutcome) int {
	n := 0
	for _, v := range r.cases {
		if v == o {
			n++
		}
	}
	return n
}

func (r h2specRun) failed() []string {
	var ids []string
	for _, id := range r.order {
		if r.cases[id] == h2specFail {
			ids = append(ids, id)
		}
	}
	return ids
}

// runH2Spec runs h2spec (every case, or only ids) against addr and reads
// its JUnit report. h2spec exits non-zero when a case fails; only a missing
// or unreadable report is an error. The run is bounded by a deadline.
func runH2Spec(t *testing.T, bin, report, addr string, useTLS bool, ids ...string) h2specRun {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-h", host, "-p", port, "-o", "2", "-j", report}
	if useTLS {
		args = append(args, "-t", "-k")
	}
	args = append(args, ids...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_ = os.Remove(report)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return h2specRun{err: fmt.Errorf("h2spec %v did not finish within 3m", args)}
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return h2specRun{err: fmt.Errorf("h2spec %v wrote no report (%v): %s", args, runErr, out.Bytes())}
	}
	r, err := parseH2SpecJUnit(b)
	if err != nil {
		return h2specRun{err: fmt.Errorf("h2spec %v: %w", args, err)}
	}
	return r
}

// parseH2SpecJUnit reads h2spec's JUnit report: test suites (one per spec
// section, its package "http2/6.5.3") of test cases with an <error> or
// <failure> when they failed and <skipped> when skipped.
func parseH2SpecJUnit(b []byte) (h2specRun, error) {
	var doc struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Package string    `xml:"package,attr"`
				Error   *struct{} `xml:"error"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return h2specRun{}, fmt.Errorf("reading the JUnit report: %w", err)
	}
	r := h2specRun{cases: map[string]h2specOutcome{}}
	for _, s := range doc.Suites {
		for i, c := range s.Cases {
			pkg := c.Package
			if pkg == "" {
				pkg = s.Package
			}
			id := pkg + "/" + strconv.Itoa(i+1)
			o := h2specPass
			switch {
			case c.Error != nil || c.Failure != nil:
				o = h2specFail
			case c.Skipped != nil:
				o = h2specSkip
			}
			if _, dup := r.cases[id]; dup {
				return h2specRun{}, fmt.Errorf("case %s twice in the JUnit report", id)
			}
			r.cases[id] = o
			r.order = append(r.order, id)
		}
	}
	if len(r.cases) == 0 {
		return h2specRun{}, errors.New("the JUnit report lists no cases")
	}
	return r, nil
}

func TestParseH2SpecJUnit(t *testing.T) {
	report := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="3.5. HTTP/2 Connection Preface" package="http2/3.5" id="3.5" tests="2">
    <testcase package="http2/3.5" classname="Sends client connection preface" time="0.0004"></testcase>
    <testcase package="http2/3.5" classname="Sends invalid connection preface" time="0.0006"><error>Connection closed</error></testcase>
  </testsuite>
  <testsuite name="6.9.2. Initial Flow-Control Window Size" package="http2/6.9.2" id="6.9.2" tests="2">
    <testcase package="http2/6.9.2" classname="negative" time="0.0006"><skipped></skipped></testcase>
    <testcase package="http2/6.9.2" classname="exceeded" time="0.0005"><failure>x</failure></testcase>
  </testsuite>
</testsuites>`
	r, err := parseH2SpecJUnit([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.order, []string{"http2/3.5/1", "http2/3.5/2", "http2/6.9.2/1", "http2/6.9.2/2"}) ||
		!slices.Equal(r.failed(), []string{"http2/3.5/2", "http2/6.9.2/2"}) || r.count(h2specPass) != 1 || r.count(h2specSkip) != 1 {
		t.Errorf("parsed %v %v", r.order, r.cases)
	}
	if _, err := parseH2SpecJUnit([]byte(`<testsuites></testsuites>`)); err == nil {
		t.Error("an empty report parsed without error")
	}
}
