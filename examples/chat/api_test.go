package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// Sign-up, login and GET /me, as the contract gives them.
func TestUsersAndMe(t *testing.T) {
	n := start(t, memDB(t)...)
	code, b, _ := call(t, "POST", n.url("/users"), Credentials{Username: "alice", Password: "password1"})
	var out TokenOut
	if code != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.Username != "alice" || strings.Count(out.Token, ".") != 2 {
		t.Fatalf("sign up: %d %s, want 201 with a username and a JWT", code, b)
	}
	if code, b, _ := call(t, "POST", n.url("/users"), Credentials{Username: "alice", Password: "password2"}); code != http.StatusConflict {
		t.Errorf("a taken name: %d %s, want 409", code, b)
	}
	for _, bad := range []Credentials{
		{"ab", "password1"}, {strings.Repeat("a", 33), "password1"}, {"Alice", "password1"}, {"al-ce", "password1"},
		{"bob", "1234567"}, {"", "password1"},
	} {
		code, b, _ := call(t, "POST", n.url("/users"), bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"errors"`) {
			t.Errorf("sign up %+v: %d %s, want 422 problem+json with errors", bad, code, b)
		}
	}
	// Boundaries that pass: 3 and 32 characters, an 8-character password.
	for _, ok := range []Credentials{{"abc", "12345678"}, {strings.Repeat("z", 32), "12345678"}, {"a_1", "12345678"}} {
		if code, b, _ := call(t, "POST", n.url("/users"), ok); code != http.StatusCreated {
			t.Errorf("sign up %+v: %d %s, want 201", ok, code, b)
		}
	}

	code, b, _ = call(t, "POST", n.url("/login"), Credentials{Username: "alice", Password: "password1"})
	var login TokenOut
	if code != http.StatusOK || json.Unmarshal(b, &login) != nil || login.Token == "" {
		t.Fatalf("login: %d %s", code, b)
	}
	for _, bad := range []Credentials{{"alice", "password2"}, {"nobody", "password1"}} {
		if code, b, _ := call(t, "POST", n.url("/login"), bad); code != http.StatusUnauthorized {
			t.Errorf("login %+v: %d %s, want 401", bad, code, b)
		}
	}

	for _, tc := range []struct{ header, want string }{
		{"Authorization: Bearer " + out.Token, "alice"},
		{"Authorization: Bearer " + login.Token, "alice"},
		{"", "Anonymous"},
		{"Authorization: Bearer x.y.z", "Anonymous"},
		{"Authorization: Bearer " + out.Token[:len(out.Token)-2] + "xx", "Anonymous"},
	} {
		var hs []string
		if tc.header != "" {
			hs = append(hs, tc.header)
		}
		code, b, _ := call(t, "GET", n.url("/me"), nil, hs...)
		if code != http.StatusOK || string(b) != fmt.Sprintf(`{"name":%q}`, tc.want) {
			t.Errorf("GET /me with %q: %d %s, want %s", tc.header, code, b, tc.want)
		}
	}
	code, b, h := call(t, "GET", n.url("/me"), nil, "Authorization: Bearer "+out.Token, "Accept: application/msgpack")
	var u User
	if code != http.StatusOK || h.Get("Content-Type") != "application/msgpack" || msgpack.Unmarshal(b, &u) != nil || u.Name != "alice" {
		t.Errorf("GET /me in msgpack: %d %q %x", code, h.Get("Content-Type"), b)
	}

	// The password is kept as an argon2id hash, never as sent.
	var hash string
	if err := n.chat.db.DB().QueryRow(`SELECT hash FROM users WHERE name = 'alice'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, "password1") {
		t.Errorf("stored hash %q", hash)
	}
	if ok, err := checkPassword(hash, "password1"); !ok || err != nil {
		t.Errorf("the stored hash does not check: %v", err)
	}
}

// GET /rooms/{room}/messages needs a token, lists stored messages oldest
// first, pages with before, and keeps them across a restart on the same
// --db; the token key is kept in the database, so a token stays valid.
func TestMessagesPersist(t *testing.T) {
	db := memDB(t)
	n := start(t, db...)
	tok := signup(t, n, "alice")
	alice := connect(t, n, "alice", tok)
	alice.send(t, JoinIn{Type: "join", Room: "lobby"})
	alice.expect(t, "joined")
	for i := 1; i <= 5; i++ {
		alice.send(t, SayIn{Type: "say", Room: "lobby", Text: fmt.Sprint("m", i)})
		alice.expect(t, "message")
	}
	if code, b, _ := call(t, "GET", n.url("/rooms/lobby/messages"), nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s, want 401", code, b)
	}
	list := func(n *node, query string) []Message {
		t.Helper()
		code, b, _ := call(t, "GET", n.url("/rooms/lobby/messages"+query), nil, "Authorization: Bearer "+tok)
		var ms []Message
		if code != http.StatusOK || json.Unmarshal(b, &ms) != nil {
			t.Fatalf("GET messages%s: %d %s", query, code, b)
		}
		return ms
	}
	ms := list(n, "?limit=50")
	if len(ms) != 5 || ms[0].Text != "m1" || ms[4].Text != "m5" || ms[0].ID >= ms[4].ID || ms[0].From != "alice" {
		t.Fatalf("messages %+v", ms)
	}
	page := list(n, fmt.Sprintf("?limit=2&before=%d", ms[4].ID))
	if len(page) != 2 || page[0].Text != "m3" || page[1].Text != "m4" {
		t.Errorf("page before m5: %+v, want m3, m4", page)
	}
	if code, b, _ := call(t, "GET", n.url("/rooms/lobby/messages?limit=500"), nil, "Authorization: Bearer "+tok); code != http.StatusUnprocessableEntity {
		t.Errorf("limit 500: %d %s, want 422", code, b)
	}
	alice.drop()
	n.stop(t)

	again := start(t, db...)
	if got := list(again, ""); len(got) != 5 || got[4].Text != "m5" {
		t.Errorf("after a restart on the same --db: %+v", got)
	}
}

// Sign-ups and logins are limited per client address: over --auth-rate a
// minute, 429 with Retry-After and the RateLimit fields.
func TestAuthRateLimit(t *testing.T) {
	n := start(t, append(memDB(t), "--auth-rate", "3")...)
	signup(t, n, "alice")
	signupLogin(t, n, "alice")
	signupLogin(t, n, "alice")
	code, b, h := call(t, "POST", n.url("/login"), Credentials{Username: "alice", Password: "password-alice"})
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(h.Get("RateLimit-Policy"), `"auth"`) {
		t.Errorf("4th auth request: %d %s %v, want 429 with Retry-After and RateLimit-Policy", code, b, h)
	}
	if code, _, _ := call(t, "GET", n.url("/me"), nil); code != http.StatusOK {
		t.Errorf("GET /me is not limited: %d", code)
	}
}

// With --otlp, every request's server span reaches the collector over
// OTLP/HTTP, named after its route.
func TestTracesToOTLP(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			got = append(got, b...)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	n := start(t, append(memDB(t), "--otlp", collector.URL+"/v1/traces")...)
	if code, _, _ := call(t, "GET", n.url("/me"), nil); code != http.StatusOK {
		t.Fatal(code)
	}
	n.stop(t) // flushes the batch
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Contains(got, []byte("GET /me")) || !bytes.Contains(got, []byte("graft-chat")) {
		t.Errorf("the collector got %d bytes without a span named GET /me of service graft-chat", len(got))
	}
}

// The documents, the docs page, health and metrics are served.
func TestServiceEndpoints(t *testing.T) {
	n := start(t, memDB(t)...)
	signup(t, n, "alice") // a request for the metrics and the log
	for _, tc := range []struct{ path, want string }{
		{"/openapi.json", `"openapi": "3.1.0"`},
		{"/openapi.yaml", `"openapi": "3.1.0"`},
		{"/openapi-3.0.json", `"openapi": "3.0.3"`},
		{"/asyncapi.json", `"asyncapi": "3.0.0"`},
		{"/docs", "swagger-ui"},
		{"/healthz", `{"status":"ok"}`},
		{"/metrics", `http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/users"} 1`},
		{"/", "<html"},
	} {
		code, b, _ := call(t, "GET", n.url(tc.path), nil)
		if code != http.StatusOK || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s: %d, want 200 containing %q; got %.300s", tc.path, code, tc.want, b)
		}
	}
}
