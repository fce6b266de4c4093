package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
	"github.com/graftgo/graft/ws"
	"go.uber.org/goleak"
)

// TestMain runs the example's main instead of the tests when
// SOCKETIFY_MAIN_ARGS is set (TestClusterProcessGone starts the test
// binary that way, as a second socketify process): its value is the
// command line, arguments separated by newlines.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SOCKETIFY_MAIN_ARGS"); ok {
		os.Args = append([]string{"socketify"}, strings.Split(args, "\n")...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

func do(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestHTTP(t *testing.T) {
	for _, pool := range []int{-1, 2} {
		app := newApp(graft.Config{RequestPoolMaxItems: pool}, ws.Config{})
		srv := httptest.NewServer(app)
		cases := []struct {
			path string
			hdr  map[string]string
			want string
		}{
			{"/user", map[string]string{"token": "abc"}, `{"name":"Test"}`},
			{"/user", nil, `{"name":"Anonymous"}`},
			{"/cart?add=a&add=b", nil, `["a","b"]`},
			{"/cart", nil, `[]`},
			{"/cart?add=c", nil, `["c"]`},
		}
		for _, tc := range cases {
			res, body := do(t, srv.URL+tc.path, tc.hdr)
			if res.StatusCode != 200 || string(body) != tc.want {
				t.Errorf("pool %d: %s = %d %s, want %s", pool, tc.path, res.StatusCode, body, tc.want)
			}
		}
		for token, name := range map[string]string{"x": "Test", "": "Anonymous"} {
			res, body := do(t, srv.URL+"/user", map[string]string{"token": token, "Accept": msgpack.MediaType})
			var u User
			if err := msgpack.Unmarshal(body, &u); err != nil || res.Header.Get("Content-Type") != msgpack.MediaType || u.Name != name {
				t.Errorf("msgpack user: %v %q %+v", err, res.Header.Get("Content-Type"), u)
			}
		}
		// Negotiation goes through c.Accepts: msgpack only for a client
		// that takes it and not JSON; a zero quality refuses it.
		for accept, want := range map[string]string{
			msgpack.MediaType:                         msgpack.MediaType,
			msgpack.MediaType + ";q=0.5":              msgpack.MediaType,
			msgpack.MediaType + ";q=0":                "application/json",
			msgpack.MediaType + ";q=0.0":              "application/json",
			msgpack.MediaType + ";q=0.000, text/html": "application/json",
			"*/*":                                    "application/json",
			"application/json, " + msgpack.MediaType: "application/json",
		} {
			res, _ := do(t, srv.URL+"/user", map[string]string{"Accept": accept})
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, want) {
				t.Errorf("pool %d: Accept %q answered %s, want %s", pool, accept, got, want)
			}
		}
		srv.Close()
		if err := app.Stop(context.Background()); err != nil { // the WebSocket hub's goroutine
			t.Error(err)
		}
	}
}
