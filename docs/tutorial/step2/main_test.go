package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Step 2's key behaviour: the token from POST /users names the user of
// GET /me, and the visits property starts afresh on every request.
func TestStep2(t *testing.T) {
	srv := httptest.NewServer(newApp())
	defer srv.Close()
	res, err := http.Post(srv.URL+"/users", "application/json", strings.NewReader(`{"username":"alice","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok TokenOut
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 201 || err != nil || tok.Token == "" {
		t.Fatalf("POST /users = %d %+v (%v)", res.StatusCode, tok, err)
	}
	for _, tc := range []struct{ auth, want string }{
		{"Bearer " + tok.Token, `{"name":"alice","visits":1}`},
		{"Bearer " + tok.Token, `{"name":"alice","visits":1}`},
		{"", `{"name":"Anonymous","visits":1}`},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.TrimSpace(string(b)) != tc.want {
			t.Errorf("GET /me (%q) = %d %s; want %s", tc.auth, res.StatusCode, b, tc.want)
		}
	}
}
