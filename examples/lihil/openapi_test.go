package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/graftest"
)

func get(t *testing.T, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return b
}

// TestOpenAPIGolden pins the example app's documents as served; the
// kin-openapi tests (openapi/kintest) validate these files.
func TestOpenAPIGolden(t *testing.T) {
	_, srv := start(t)
	for _, f := range []struct{ path, file string }{{"/openapi.json", "openapi.json"}, {"/openapi-3.0.json", "openapi-3.0.json"}} {
		got := get(t, srv.URL+f.path)
		graftest.Golden(t, f.file, got)
	}
	doc := string(get(t, srv.URL+"/openapi.json"))
	for _, want := range []string{`"429"`, `"over --max-requests"`, `"createUser"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %s", want)
		}
	}
	for _, never := range []string{"Bus", "Limits", "Log"} {
		if strings.Contains(doc, `"name": "`+never+`"`) {
			t.Errorf("the document shows the plugin or injected field %s as a param", never)
		}
	}
}

// TestDocsPageInChromium loads /docs in a real headless Chromium, served
// by a test server with no other network, and finds every operation of
// the app in the DOM Swagger UI renders.
func TestDocsPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it): the docs page is not rendered")
	}
	_, srv := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000",
		"--dump-dom", srv.URL+"/docs")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish rendering /docs within 90 s; stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium: %v; stderr:\n%s", err, stderr.String())
	}
	page := string(dom)
	if !strings.Contains(page, `class="swagger-ui`) {
		t.Fatalf("Swagger UI did not render:\n%.2000s", page)
	}
	// Every operation of the document renders as a block whose DOM id
	// ends with the operation id ("operations-users-createUser") and that
	// shows its path.
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(get(t, srv.URL+"/openapi.json"), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			n++
			if !regexp.MustCompile(`id="operations-[^"]*-` + regexp.QuoteMeta(op.OperationID) + `"`).MatchString(page) {
				t.Errorf("the rendered page has no block for operation %s (%s %s)", op.OperationID, method, path)
			}
			if !strings.Contains(page, `data-path="`+path+`"`) {
				t.Errorf("the rendered page does not show %s %s", method, path)
			}
		}
	}
	if n != 3 {
		t.Errorf("the document has %d operations, want the app's 3", n)
	}
	if t.Failed() {
		t.Logf("rendered DOM:\n%.4000s", page)
	}
}
