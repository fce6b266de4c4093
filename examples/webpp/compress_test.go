package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftgo/graft"
)

// serveArgs starts the app with the given flags over a real listener.
func serveArgs(t *testing.T, args ...string) *httptest.Server {
	t.Helper()
	app := newApp(graft.Config{})
	if err := app.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		srv.Close()
		if err := app.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// rawDo sends a request with a client that decodes nothing, so the test
// sees the bytes as sent.
func rawDo(t *testing.T, method, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res, b
}

func gunzip(t *testing.T, what string, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not gzip: %v (%q)", what, err, b)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: the gzip stream does not end: %v", what, err)
	}
	return plain
}

func TestCompress(t *testing.T) {
	srv := serveArgs(t, "--db", filepath.Join(t.TempDir(), "notes.db"), "--compress")
	gz := []string{"Accept-Encoding", "gzip"}

	if res, _ := rawDo(t, "POST", srv.URL+"/notes", `{"text":"hello"}`, gz...); res.StatusCode != 201 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("POST /notes: %d %v", res.StatusCode, res.Header)
	}
	res, b := rawDo(t, "GET", srv.URL+"/notes", "", gz...)
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("GET /notes: %d %v", res.StatusCode, res.Header)
	}
	if plain := gunzip(t, "GET /notes", b); string(plain) != `[{"id":1,"text":"hello"}]` {
		t.Errorf("GET /notes decompressed to %q", plain)
	}
	// The compressed bytes are not the identity representation: the tag is
	// weak, and still matches for If-None-Match.
	if et := res.Header.Get("ETag"); et != `W/"notes-1-1"` {
		t.Errorf("ETag of a gzipped answer = %q, want weak", et)
	}
	if res, b := rawDo(t, "GET", srv.URL+"/notes", "", "Accept-Encoding", "gzip", "If-None-Match", `W/"notes-1-1"`); res.StatusCode != 304 || len(b) != 0 || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("304 through the compressor: %d %v %q", res.StatusCode, res.Header, b)
	}

	// Error answers are compressed and complete: problem+json after gunzip.
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/nothing", "", 404},
		{"PUT", "/notes", "", 405},
		{"POST", "/notes", `{"text":`, 400},
		{"POST", "/notes", `{"text":" "}`, 422},
	} {
		res, b := rawDo(t, tc.method, srv.URL+tc.path, tc.body, gz...)
		if res.StatusCode != tc.status || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, res.StatusCode, res.Header)
			continue
		}
		var p graft.Problem
		if err := json.Unmarshal(gunzip(t, tc.path, b), &p); err != nil || p.Status != tc.status {
			t.Errorf("%s %s: problem %+v (%v)", tc.method, tc.path, p, err)
		}
	}

	// No body, no compression: 204 keeps its Set-Cookie and sends nothing.
	res, b = rawDo(t, "DELETE", srv.URL+"/visits", "", gz...)
	if res.StatusCode != 204 || len(b) != 0 || res.Header.Get("Content-Encoding") != "" || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("DELETE /visits: %d %v %q", res.StatusCode, res.Header, b)
	}
	// HEAD gets GET's headers and no body.
	res, b = rawDo(t, "HEAD", srv.URL+"/home", "", gz...)
	if res.StatusCode != 200 || len(b) != 0 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("HEAD /home: %d %v %q", res.StatusCode, res.Header, b)
	}

	// Clients that do not accept gzip get plain answers.
	for _, ae := range []string{"", "identity", "gzip;q=0", "br, *;q=0", "*;q=1, gzip;q=0"} {
		res, b := rawDo(t, "GET", srv.URL+"/nothing", "", "Accept-Encoding", ae)
		var p graft.Problem
		if res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "Accept-Encoding" || json.Unmarshal(b, &p) != nil || p.Status != 404 {
			t.Errorf("Accept-Encoding %q: %v %q", ae, res.Header, b)
		}
	}
	for _, ae := range []string{"gzip", "deflate, gzip;q=0.5", "*", "GZIP", "x-gzip"} {
		if res, _ := rawDo(t, "GET", srv.URL+"/home", "", "Accept-Encoding", ae); res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q: not compressed: %v", ae, res.Header)
		}
	}
}

func TestNoCompressWithoutTheFlag(t *testing.T) {
	srv := serveArgs(t, "--db", filepath.Join(t.TempDir(), "notes.db"))
	res, b := rawDo(t, "GET", srv.URL+"/home", "", "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "" || string(b) != "Home Page" {
		t.Errorf("without --compress: %v %q", res.Header, b)
	}
}

// TestExtensionSectionsFromFile: both extensions' settings come from their
// config sections ([sqlite], [compress]) in a TOML file.
func TestExtensionSectionsFromFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "from-config.db")
	file := filepath.Join(dir, "webpp.toml")
	if err := os.WriteFile(file, []byte("[sqlite]\nfile = \""+db+"\"\n\n[compress]\nenabled = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := serveArgs(t, "--config", file)
	if res, _ := rawDo(t, "GET", srv.URL+"/home", "", "Accept-Encoding", "gzip"); res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("compress.enabled = true in the file: not compressed: %v", res.Header)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("sqlite.file from the file was not opened: %v", err)
	}
}
