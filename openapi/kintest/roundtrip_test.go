package kintest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
)

// TestExamplesRoundTripTheApps: for every operation of the example apps,
// a request is built from the document's examples alone (path, query,
// header and cookie params, the JSON body), sent over TCP to the app
// running, and kin-openapi's openapi3filter validates the request and the
// app's response against the document, in both versions. What a client
// generated from the document sends, the app takes, and what it answers,
// the document describes.
func TestExamplesRoundTripTheApps(t *testing.T) {
	apps := []struct {
		name string
		base string
	}{
		{"examples/lihil (its binary)", runLihil(t)},
		{"the agreement app", agreementApp(t)},
	}
	for _, app := range apps {
		for _, path := range []string{"/openapi.json", "/openapi-3.0.json"} {
			doc, err := openapi3.NewLoader().LoadFromData(httpGet(t, app.base+path))
			if err != nil {
				t.Fatalf("%s %s: %v", app.name, path, err)
			}
			n := roundTrips(t, app.name+" "+doc.OpenAPI, doc, app.base)
			if n == 0 {
				t.Errorf("%s %s: no operation round-tripped", app.name, path)
			}
		}
	}
}

// roundTrips sends each operation's example request and validates the
// exchange; it returns how many operations it sent.
func roundTrips(t *testing.T, name string, doc *openapi3.T, base string) int {
	t.Helper()
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var keys []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			keys = append(keys, method+" "+path)
		}
	}
	sort.Strings(keys)
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	for _, key := range keys {
		method, path, _ := strings.Cut(key, " ")
		op := doc.Paths.Find(path).GetOperation(method)
		req, err := exampleRequest(base, method, path, op)
		if err != nil {
			t.Errorf("%s %s: %v", name, key, err)
			continue
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: the router does not find %s: %v", name, key, req.URL, err)
			continue
		}
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the request built from the examples breaks the document: %v", name, key, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", name, key, err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 400 {
			t.Errorf("%s %s: the app refused the example request %s: %d %s", name, key, body, res.StatusCode, answer)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(answer)), Options: opts}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s: the answer %d %s breaks the document: %v", name, key, res.StatusCode, answer, err)
		}
	}
	return len(keys)
}

// exampleRequest builds op's request from the document's examples; an
// operation whose required param or body has no example is an error.
func exampleRequest(base, method, path string, op *openapi3.Operation) (*http.Request, error) {
	var body []byte
	ctype := ""
	if op.RequestBody != nil {
		rb := op.RequestBody.Value
		mt := rb.Content.Get("application/json")
		if mt == nil {
			return nil, fmt.Errorf("no application/json body to send")
		}
		if mt.Example == nil {
			if rb.Required {
				return nil, fmt.Errorf("the required body has no example")
			}
		} else {
			var err error
			if body, err = json.Marshal(mt.Example); err != nil {
				return nil, err
			}
			ctype = "application/json"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = cancel // released with the process: the request is sent once, within the deadline
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	q := req.URL.Query()
	for _, pr := range op.Parameters {
		p := pr.Value
		ex := p.Example
		if ex == nil && p.Schema != nil && len(p.Schema.Value.Examples) > 0 {
			ex = p.Schema.Value.Examples[0]
		}
		if ex == nil {
			if p.Required {
				return nil, fmt.Errorf("the required %s param %s has no example", p.In, p.Name)
			}
			continue
		}
		v := paramText(ex)
		switch p.In {
		case "path":
			req.URL.Path = strings.ReplaceAll(req.URL.Path, "{"+p.Name+"}", v)
		case "query":
			if a, ok := ex.([]any); ok && (p.Explode == nil || *p.Explode) {
				for _, x := range a {
					q.Add(p.Name, paramText(x))
				}
			} else {
				q.Set(p.Name, v)
			}
		case "header":
			req.Header.Set(p.Name, v)
		case "cookie":
			req.AddCookie(&http.Cookie{Name: p.Name, Value: v})
		}
	}
	req.URL.RawQuery = q.Encode()
	if strings.Contains(req.URL.Path, "{") {
		return nil, fmt.Errorf("path %s keeps a param without example", req.URL.Path)
	}
	return req, nil
}

// paramText renders a param example as the text a client sends: a
// string as is, a list comma-separated, other values as JSON.
func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = paramText(e)
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// agreementApp serves the agreement test's body type over TCP, with a
// query, a header and a path param, answering the body back.
func agreementApp(t *testing.T) string {
	t.Helper()
	app := graft.New(graft.Config{})
	app.Register(openapi.Extension(openapi.Info{Title: "agreement", Version: "1.0.0"}).WithoutDocs())
	type in struct {
		ID     int    `path:"id" example:"7"`
		Limit  int    `query:"limit" min:"1" max:"50" example:"10"`
		Tenant string `header:"X-Tenant" pattern:"^[a-z]+$" example:"acme"`
		Body   AgreeBody
	}
	type out struct {
		Body AgreeBody
	}
	graft.Put(app, "/agree/{id}", func(_ context.Context, in *in) (*out, error) { return &out{Body: in.Body}, nil })
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		srv.Close()
		_ = app.Stop(context.Background())
	})
	return srv.URL
}

// runLihil builds examples/lihil and runs it on a free port; the process
// is stopped (SIGTERM, then killed after 10 s) when the test ends.
func runLihil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lihil")
	build := exec.Command("go", "build", "-o", bin, "github.com/graftgo/graft/examples/lihil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/lihil: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--host=127.0.0.1", "--port=-1")
	cmd.Env = append(os.Environ(), "GRAFT_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logged bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		re := regexp.MustCompile(`addr=(http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logged.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { <-done; _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("examples/lihil did not stop within 10 s of SIGTERM")
		}
	})
	select {
	case a := <-addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("examples/lihil did not log its address within 30 s; it logged:\n%s", logged.String())
	}
	return ""
}
