package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/plugins/auth"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Client is the identity the tests' credentials stand for.
type Client struct{ Name string }

type reportIn struct {
	Client *Client `plugin:""`
	Body   struct {
		N int `json:"n"`
	}
}

type reportOut struct{ Body string }

type openIn struct {
	Q string `query:"q"`
}

type openOut struct{ Body string }

const (
	keyA = "key-a-0123456789abcdef"
	keyB = "key-b-0123456789abcdef"
)

// serve starts an app with plugin p, POST /report (guarded), GET /open
// (not) and the OpenAPI document; it counts the body bytes read.
func serve(t *testing.T, p graft.Plugin) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var read atomic.Int64
	app := graft.New(graft.Config{})
	app.Register(openapi.Extension(openapi.Info{Title: "t", Version: "1"}))
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			c.Request.Body = counting{c.Request.Body, &read}
			return next(c)
		}
	})
	app.UsePlugins(p)
	graft.Post(app, "/report", func(_ context.Context, in *reportIn) (*reportOut, error) {
		return &reportOut{Body: in.Client.Name}, nil
	})
	graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) { return &openOut{Body: "open"}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newServer(t, app), &read
}

// newServer serves a started app on a real listener until the test ends.
func newServer(t *testing.T, app *graft.App[graft.Ctx]) *httptest.Server {
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

type counting struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b counting) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func do(t *testing.T, srv *httptest.Server, method, target string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func check401(t *testing.T, res *http.Response, body, challenge, detail string, read *atomic.Int64) {
	t.Helper()
	if res.StatusCode != 401 {
		t.Fatalf("status %d, want 401: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if h := res.Header.Get("Www-Authenticate"); !strings.HasPrefix(h, challenge) {
		t.Errorf("WWW-Authenticate %q, want prefix %q", h, challenge)
	}
	var p graft.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || !strings.Contains(p.Detail, detail) {
		t.Errorf("problem %+v (%v), want detail with %q", p, err, detail)
	}
	if n := read.Load(); n != 0 {
		t.Errorf("%d body bytes read before the 401", n)
	}
}

func keys() []auth.Key[*Client] {
	return []auth.Key[*Client]{{Key: keyA, Value: &Client{Name: "a"}}, {Key: keyB, Value: &Client{Name: "b"}}}
}

func TestAPIKeyHeader(t *testing.T) {
	srv, read := serve(t, auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys(), Realm: "reports"}))
	for key, want := range map[string]string{keyA: "a", keyB: "b"} {
		res, body := do(t, srv, "POST", "/report", map[string]string{"X-API-Key": key}, `{"n":1}`)
		if res.StatusCode != 200 || strings.TrimSpace(body) != want {
			t.Errorf("key %s: %d %s, want %s", key, res.StatusCode, body, want)
		}
	}
	for _, tc := range []struct{ name, key, detail string }{
		{"missing", "", "send the API key in the header X-API-Key"},
		{"wrong", "key-c-0123456789abcdef", "not valid"},
		{"prefix of a key", keyA[:len(keyA)-1], "not valid"},
		{"key plus a byte", keyA + "x", "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read.Store(0)
			hdr := map[string]string{}
			if tc.key != "" {
				hdr["X-API-Key"] = tc.key
			}
			res, body := do(t, srv, "POST", "/report", hdr, `{"n":`) // malformed: never read
			check401(t, res, body, `APIKey realm="reports"`, tc.detail, read)
			if tc.key != "" && strings.Contains(body, tc.key) {
				t.Errorf("the answer echoes the key: %s", body)
			}
		})
	}
	if res, body := do(t, srv, "GET", "/open", nil, ""); res.StatusCode != 200 {
		t.Errorf("/open: %d %s", res.StatusCode, body)
	}
}

func TestAPIKeyQuery(t *testing.T) {
	srv, read := serve(t, auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys(), In: graft.InQuery, Name: "api_key"}))
	res, body := do(t, srv, "POST", "/report?api_key="+url.QueryEscape(keyB), nil, `{"n":1}`)
	if res.StatusCode != 200 || strings.TrimSpace(body) != "b" {
		t.Fatalf("query key: %d %s", res.StatusCode, body)
	}
	read.Store(0)
	// the header does not count for a query key
	res, body = do(t, srv, "POST", "/report", map[string]string{"api_key": keyB}, `{"n":1}`)
	check401(t, res, body, `APIKey realm="graft", in="query", name="api_key"`, "send the API key in the query api_key", read)
}

func TestBasic(t *testing.T) {
	srv, read := serve(t, auth.Basic(auth.BasicConfig[*Client]{Realm: "reports", Credentials: []auth.Credential[*Client]{
		{User: "ada", Password: "lovelace", Value: &Client{Name: "ada"}},
		{User: "bob", Password: "pass:with:colons", Value: &Client{Name: "bob"}},
	}}))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ auth, want string }{
		{"Basic " + b64("ada:lovelace"), "ada"},
		{"basic " + b64("bob:pass:with:colons"), "bob"},
	} {
		res, body := do(t, srv, "POST", "/report", map[string]string{"Authorization": tc.auth}, `{"n":1}`)
		if res.StatusCode != 200 || strings.TrimSpace(body) != tc.want {
			t.Errorf("%s: %d %s", tc.auth, res.StatusCode, body)
		}
	}
	for _, tc := range []struct{ name, auth, detail string }{
		{"missing", "", "send the header Authorization: Basic"},
		{"bearer", "Bearer x", "send the header Authorization: Basic"},
		{"wrong password", "Basic " + b64("ada:babbage"), "user name or password is wrong"},
		{"another user's password", "Basic " + b64("ada:pass:with:colons"), "user name or password is wrong"},
		{"unknown user", "Basic " + b64("eve:lovelace"), "user name or password is wrong"},
		{"not base64", "Basic !!!", "not valid base64"},
		{"no colon", "Basic " + b64("ada"), "no ':'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read.Store(0)
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			res, body := do(t, srv, "POST", "/report", hdr, `{"n":`)
			check401(t, res, body, `Basic realm="reports", charset="UTF-8"`, tc.detail, read)
		})
	}
}

func TestBasicVerify(t *testing.T) {
	srv, read := serve(t, auth.Basic(auth.BasicConfig[*Client]{Verify: func(u, p string) (*Client, bool) {
		return &Client{Name: u}, u == "ada" && p == "x"
	}}))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	if res, body := do(t, srv, "POST", "/report", map[string]string{"Authorization": "Basic " + b64("ada:x")}, `{"n":1}`); res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	read.Store(0)
	res, body := do(t, srv, "POST", "/report", map[string]string{"Authorization": "Basic " + b64("ada:y")}, `{"n":1}`)
	check401(t, res, body, `Basic realm="graft"`, "wrong", read)
}

// The schemes, the 401 and the API key param are in the OpenAPI document;
// the open endpoint has none of them.
func TestOpenAPI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      graft.Plugin
		scheme string
		want   map[string]string
		param  string
	}{
		{"apikey", auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys()}), "apiKeyAuth", map[string]string{"type": "apiKey", "in": "header", "name": "X-API-Key"}, "X-API-Key"},
		{"basic", auth.Basic(auth.BasicConfig[*Client]{Credentials: []auth.Credential[*Client]{{User: "u", Password: "p"}}}), "basicAuth", map[string]string{"type": "http", "scheme": "basic"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, tc.p)
			_, body := do(t, srv, "GET", "/openapi.json", nil, "")
			var doc struct {
				Paths map[string]map[string]struct {
					Security   []map[string][]string `json:"security"`
					Parameters []struct {
						Name, In string
						Required bool
					} `json:"parameters"`
					Responses map[string]any `json:"responses"`
				} `json:"paths"`
				Components struct {
					SecuritySchemes map[string]map[string]string `json:"securitySchemes"`
				} `json:"components"`
			}
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			s := doc.Components.SecuritySchemes[tc.scheme]
			for k, v := range tc.want {
				if s[k] != v {
					t.Errorf("securitySchemes.%s.%s = %q, want %q (%v)", tc.scheme, k, s[k], v, s)
				}
			}
			op := doc.Paths["/report"]["post"]
			if len(op.Security) != 1 || op.Security[0][tc.scheme] == nil || op.Responses["401"] == nil {
				t.Errorf("POST /report: security %v, responses %v", op.Security, op.Responses)
			}
			if tc.param != "" && (len(op.Parameters) != 1 || op.Parameters[0].Name != tc.param || op.Parameters[0].In != "header" || !op.Parameters[0].Required) {
				t.Errorf("POST /report parameters %+v, want the required header %s", op.Parameters, tc.param)
			}
			if open := doc.Paths["/open"]["get"]; len(open.Security) != 0 || open.Responses["401"] != nil {
				t.Errorf("GET /open documented as guarded: %+v", open)
			}
		})
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, plugin, want string
		p                  graft.Plugin
	}{
		{"no keys", "apikey", "Keys is empty", auth.APIKey(auth.APIKeyConfig[*Client]{})},
		{"short key", "apikey", "at least 16", auth.APIKey(auth.APIKeyConfig[*Client]{Keys: []auth.Key[*Client]{{Key: "short"}}})},
		{"duplicate key", "apikey", "repeats Keys[0]", auth.APIKey(auth.APIKeyConfig[*Client]{Keys: []auth.Key[*Client]{{Key: keyA}, {Key: keyA}}})},
		{"cookie", "apikey", "InHeader or graft.InQuery", auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys(), In: graft.InCookie})},
		{"no users", "basic", "no Credentials and no Verify", auth.Basic(auth.BasicConfig[*Client]{})},
		{"colon in user", "basic", "no ':'", auth.Basic(auth.BasicConfig[*Client]{Credentials: []auth.Credential[*Client]{{User: "a:b", Password: "p"}}})},
		{"empty password", "basic", "empty password", auth.Basic(auth.BasicConfig[*Client]{Credentials: []auth.Credential[*Client]{{User: "a"}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{})
			app.UsePlugins(tc.p)
			graft.Post(app, "/report", func(_ context.Context, in *reportIn) (*reportOut, error) { return &reportOut{}, nil })
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			if msg := err.Error(); !strings.Contains(msg, "POST /report") || !strings.Contains(msg, "plugin "+tc.plugin) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want the endpoint, plugin %s and %q", msg, tc.plugin, tc.want)
			}
		})
	}
}
