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

// Step 1's key behaviour: a valid body signs up (201), an invalid one is
// a 422 problem naming the field.
func TestStep1(t *testing.T) {
	srv := httptest.NewServer(newApp())
	defer srv.Close()
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"username":"alice","password":"correct horse"}`, 201, `"username":"alice"`},
		{`{"username":"A!","password":"correct horse"}`, 422, "username"},
	} {
		res, err := http.Post(srv.URL+"/users", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("POST /users %s = %d %s; want %d containing %s", tc.body, res.StatusCode, b, tc.status, tc.want)
		}
	}
}
