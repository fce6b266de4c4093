package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHello(t *testing.T) {
	srv := httptest.NewServer(newApp())
	defer srv.Close()
	cases := []struct {
		method, path string
		status       int
		ctype, body  string
		allow        string
	}{
		{"GET", "/", 200, "text/plain; charset=utf-8", "Hello, World!", ""},
		{"GET", "/hello/Ada", 200, "application/json", `{"message":"Hello, Ada"}`, ""},
		{"GET", "/hello/a%2Fb", 200, "application/json", `{"message":"Hello, a/b"}`, ""},
		{"POST", "/", 405, "application/problem+json", `"status":405`, "GET, HEAD"},
		{"GET", "/nope", 404, "application/problem+json", `"status":404`, ""},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || res.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s = %d %q %s; want %d %q containing %s", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), b, tc.status, tc.ctype, tc.body)
		}
		if got := res.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}
