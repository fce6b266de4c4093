package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v3"
	"github.com/graftgo/graft"
	"github.com/valyala/fasthttp"
)

// Two cases measured side by side in every peer, each written the way the
// framework documents:
//
//	POST /users  {"name":"alice","age":30}
//
// name required (non-empty), age >= 0, the body echoed as JSON; bad values
// answer 422. And a GET with string and integer path and query params:
//
//	GET /repos/{owner}/{repo}/issues/{number}?state=open&page=2
//
// number >= 1, page >= 1 defaulting to 1, state a string, echoed as JSON.
//
// Peers: net/http by hand (encoding/json), gin (ShouldBind* with binding
// tags), Huma v2 (humago), Fiber v3 (hand-written bind and checks), graft
// typed (graft.Post/graft.Get) and graft plain (c.BindJSON, c.Param).
//
// Fiber runs on fasthttp, not net/http: the tests send it real requests
// through app.Test (an in-memory connection through fasthttp's server), the
// benchmarks call its fasthttp.RequestHandler with a prepared RequestCtx,
// the request already parsed as the *http.Request of the other peers is.

// echoUser is the POST body and answer of every peer.
type echoUser struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// issueRef is the GET answer of every peer.
type issueRef struct {
	Owner  string `json:"owner"`
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	State  string `json:"state"`
	Page   int    `json:"page"`
}

const (
	userPath    = "/users"
	userBody    = `{"name":"alice","age":30}`
	issueTarget = "/repos/graftgo/graft/issues/3?state=open&page=2"
	issueWant   = `{"owner":"graftgo","repo":"graft","number":3,"state":"open","page":2}`
)

var userPayload = []byte(userBody)

// problem422 is what the hand-written peers answer for bad values.
func problem422(detail string) []byte {
	b, _ := json.Marshal(map[string]any{"status": 422, "detail": detail})
	return b
}

// graft typed: the checks are tags (required means sent, so minLength
// makes "" fail as the hand-written checks do).

type graftEchoBody struct {
	Name string `json:"name" required:"true" minLength:"1"`
	Age  int    `json:"age" min:"0"`
}

type graftEchoIn struct{ Body graftEchoBody }

type graftEchoOut struct{ Body graftEchoBody }

func graftEcho(_ context.Context, in *graftEchoIn) (*graftEchoOut, error) {
	return &graftEchoOut{Body: in.Body}, nil
}

type graftIssueIn struct {
	Owner  string `path:"owner"`
	Repo   string `path:"repo"`
	Number int    `path:"number" min:"1"`
	State  string `query:"state"`
	Page   int    `query:"page" default:"1" min:"1"`
}

type graftIssueOut struct{ Body issueRef }

func graftIssue(_ context.Context, in *graftIssueIn) (*graftIssueOut, error) {
	return &graftIssueOut{Body: issueRef{in.Owner, in.Repo, in.Number, in.State, in.Page}}, nil
}

func loadGraftTyped(tb testing.TB) peer {
	app := graft.New(graft.Config{Logger: quietLogger})
	graft.Post(app, userPath, graftEcho)
	graft.Get(app, "/repos/{owner}/{repo}/issues/{number}", graftIssue)
	return httpPeer{startGraft(tb, app)}
}

// graft plain: handlers on *graft.Ctx, checks by hand.

func loadGraftPlain(tb testing.TB) peer {
	app := graft.New(graft.Config{Logger: quietLogger})
	app.POST(userPath, func(c *graft.Ctx) error {
		var u echoUser
		if err := c.BindJSON(&u); err != nil {
			return err
		}
		if u.Name == "" || u.Age < 0 {
			return &graft.HTTPError{Status: http.StatusUnprocessableEntity, Detail: "name is required, age must be >= 0"}
		}
		return c.JSON(http.StatusOK, &u)
	})
	app.GET("/repos/{owner}/{repo}/issues/{number}", func(c *graft.Ctx) error {
		number, err := strconv.Atoi(c.Param("number"))
		if err != nil || number < 1 {
			return &graft.HTTPError{Status: http.StatusUnprocessableEntity, Detail: "number must be an integer >= 1"}
		}
		page := 1
		if s := c.Query("page"); s != "" {
			if page, err = strconv.Atoi(s); err != nil || page < 1 {
				return &graft.HTTPError{Status: http.StatusUnprocessableEntity, Detail: "page must be an integer >= 1"}
			}
		}
		return c.JSON(http.StatusOK, &issueRef{c.Param("owner"), c.Param("repo"), number, c.Query("state"), page})
	})
	return httpPeer{startGraft(tb, app)}
}

// net/http: a ServeMux and encoding/json, as the standard library documents.

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func loadNetHTTPPeer(testing.TB) peer {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+userPath, func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
			http.Error(w, "unsupported media type", http.StatusUnsupportedMediaType)
			return
		}
		var u echoUser
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&u); err != nil {
			http.Error(w, "malformed body", http.StatusBadRequest)
			return
		}
		if u.Name == "" || u.Age < 0 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(problem422("name is required, age must be >= 0"))
			return
		}
		writeJSON(w, http.StatusOK, &u)
	})
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}", func(w http.ResponseWriter, r *http.Request) {
		number, err := strconv.Atoi(r.PathValue("number"))
		if err != nil || number < 1 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "detail": "number must be an integer >= 1"})
			return
		}
		q := r.URL.Query()
		page := 1
		if s := q.Get("page"); s != "" {
			if page, err = strconv.Atoi(s); err != nil || page < 1 {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "detail": "page must be an integer >= 1"})
				return
			}
		}
		writeJSON(w, http.StatusOK, &issueRef{r.PathValue("owner"), r.PathValue("repo"), number, q.Get("state"), page})
	})
	return httpPeer{mux}
}

// gin: ShouldBind* with binding tags (go-playground/validator) on gin.New().

type ginEchoBody struct {
	Name string `json:"name" binding:"required"`
	Age  int    `json:"age" binding:"min=0"`
}

type ginIssueURI struct {
	Owner  string `uri:"owner" binding:"required"`
	Repo   string `uri:"repo" binding:"required"`
	Number int    `uri:"number" binding:"required,min=1"`
}

type ginIssueQuery struct {
	State string `form:"state"`
	Page  int    `form:"page,default=1" binding:"min=1"`
}

func loadGinPeer(testing.TB) peer {
	e := gin.New()
	e.POST(userPath, func(c *gin.Context) {
		var u ginEchoBody
		if err := c.ShouldBindJSON(&u); err != nil {
			status := http.StatusBadRequest
			if _, ok := err.(validator.ValidationErrors); ok {
				status = http.StatusUnprocessableEntity
			}
			c.JSON(status, gin.H{"status": status, "detail": err.Error()})
			return
		}
		c.JSON(http.StatusOK, echoUser(u))
	})
	e.GET("/repos/:owner/:repo/issues/:number", func(c *gin.Context) {
		var (
			uri ginIssueURI
			q   ginIssueQuery
		)
		if err := c.ShouldBindUri(&uri); err != nil {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"status": 422, "detail": err.Error()})
			return
		}
		if err := c.ShouldBindQuery(&q); err != nil {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"status": 422, "detail": err.Error()})
			return
		}
		c.JSON(http.StatusOK, issueRef{uri.Owner, uri.Repo, uri.Number, q.State, q.Page})
	})
	return httpPeer{e}
}

// Huma v2 on humago, without the schema-link hook (see loadHuma).

type humaEchoIn struct {
	Body struct {
		Name string `json:"name" minLength:"1"`
		Age  int    `json:"age" minimum:"0" required:"false"`
	}
}

type humaEchoOut struct{ Body echoUser }

type humaIssueIn struct {
	Owner  string `path:"owner"`
	Repo   string `path:"repo"`
	Number int    `path:"number" minimum:"1"`
	State  string `query:"state"`
	Page   int    `query:"page" minimum:"1" default:"1"`
}

type humaIssueOut struct{ Body issueRef }

func loadHumaPeer(testing.TB) peer {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("bench", "1.0")
	cfg.CreateHooks = nil
	api := humago.New(mux, cfg)
	huma.Register(api, huma.Operation{OperationID: "echo-user", Method: http.MethodPost, Path: userPath},
		func(_ context.Context, in *humaEchoIn) (*humaEchoOut, error) {
			return &humaEchoOut{Body: echoUser(in.Body)}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "get-issue", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/issues/{number}"},
		func(_ context.Context, in *humaIssueIn) (*humaIssueOut, error) {
			return &humaIssueOut{Body: issueRef{in.Owner, in.Repo, in.Number, in.State, in.Page}}, nil
		})
	return httpPeer{mux}
}

// Fiber v3: c.Bind().JSON and the generic param helpers, checks by hand.

func loadFiberPeer(tb testing.TB) peer {
	app := fiber.New()
	app.Post(userPath, func(c fiber.Ctx) error {
		var u echoUser
		if err := c.Bind().JSON(&u); err != nil {
			return c.Status(http.StatusBadRequest).JSON(fiber.Map{"status": 400, "detail": "malformed body"})
		}
		if u.Name == "" || u.Age < 0 {
			return c.Status(http.StatusUnprocessableEntity).Send(problem422("name is required, age must be >= 0"))
		}
		return c.JSON(&u)
	})
	app.Get("/repos/:owner/:repo/issues/:number", func(c fiber.Ctx) error {
		number, err := strconv.Atoi(c.Params("number"))
		if err != nil || number < 1 {
			return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"status": 422, "detail": "number must be an integer >= 1"})
		}
		page := 1
		if s := c.Query("page"); s != "" {
			if page, err = strconv.Atoi(s); err != nil || page < 1 {
				return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"status": 422, "detail": "page must be an integer >= 1"})
			}
		}
		// fasthttp reuses its buffers: copy what outlives the handler (the
		// JSON is encoded before it returns, so here nothing does).
		return c.JSON(&issueRef{c.Params("owner"), c.Params("repo"), number, c.Query("state"), page})
	})
	return fiberPeer{app: app, h: app.Handler()}
}

// peer is one framework loaded with both routes.
type peer interface {
	// do answers one request for the tests: status and body, trailing
	// whitespace trimmed.
	do(tb testing.TB, method, target, body string) (int, string)
	// prepare returns a func that serves the request once more, for the
	// benchmarks (no per-op allocation outside the framework), and one
	// that reports the status and body size of the last time it served.
	prepare(method, target, body string) (serve func(), last func() (status, size int))
}

type httpPeer struct{ h http.Handler }

func (p httpPeer) do(_ testing.TB, method, target, body string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Code, string(bytes.TrimSpace(rec.Body.Bytes()))
}

func (p httpPeer) prepare(method, target, body string) (func(), func() (int, int)) {
	w := newDiscardWriter()
	r := httptest.NewRequest(method, target, nil)
	last := func() (int, int) {
		if w.status == 0 {
			return http.StatusOK, w.n
		}
		return w.status, w.n
	}
	if body == "" {
		return func() {
			w.status, w.n = 0, 0
			p.h.ServeHTTP(w, r)
		}, last
	}
	r.Header.Set("Content-Type", "application/json")
	payload := []byte(body)
	rb := &reusableBody{}
	return func() {
		w.status, w.n = 0, 0
		rb.Reset(payload)
		r.Body = rb
		p.h.ServeHTTP(w, r)
	}, last
}

type fiberPeer struct {
	app *fiber.App
	h   fasthttp.RequestHandler
}

func (p fiberPeer) do(tb testing.TB, method, target, body string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.app.Test(r)
	if err != nil {
		tb.Fatalf("fiber %s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("fiber %s %s: reading the body: %v", method, target, err)
	}
	return resp.StatusCode, string(bytes.TrimSpace(b))
}

func (p fiberPeer) prepare(method, target, body string) (func(), func() (int, int)) {
	ctx := &fasthttp.RequestCtx{}
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(target)
	req.Header.SetHost("example.com")
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, nil)
	return func() {
			ctx.Response.Reset()
			p.h(ctx)
		}, func() (int, int) {
			return ctx.Response.StatusCode(), len(bytes.TrimSpace(ctx.Response.Body()))
		}
}

// peers lists every framework of the side-by-side cases.
var peers = []struct {
	name string
	load func(testing.TB) peer
}{
	{"nethttp", loadNetHTTPPeer},
	{"gin", loadGinPeer},
	{"huma", loadHumaPeer},
	{"fiber", loadFiberPeer},
	{"graft", loadGraftTyped},
	{"graft-plain", loadGraftPlain},
}

// TestPeersAgree checks that every peer answers the valid requests with
// the same bytes and rejects the same bad input with 422, so no peer wins
// a benchmark by doing less.
func TestPeersAgree(t *testing.T) {
	bad := []struct{ name, method, target, body string }{
		{"no name", http.MethodPost, userPath, `{"age":30}`},
		{"empty name", http.MethodPost, userPath, `{"name":"","age":30}`},
		{"negative age", http.MethodPost, userPath, `{"name":"alice","age":-1}`},
		{"number 0", http.MethodGet, "/repos/graftgo/graft/issues/0?state=open", ""},
		{"number not an integer", http.MethodGet, "/repos/graftgo/graft/issues/x", ""},
		{"page 0", http.MethodGet, "/repos/graftgo/graft/issues/3?page=0", ""},
		{"page not an integer", http.MethodGet, "/repos/graftgo/graft/issues/3?page=two", ""},
	}
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) {
			p := pr.load(t)
			good := []struct{ method, target, body, want string }{
				{http.MethodPost, userPath, userBody, userBody},
				{http.MethodPost, userPath, `{"name":"bob"}`, `{"name":"bob","age":0}`},
				{http.MethodGet, issueTarget, "", issueWant},
				{http.MethodGet, "/repos/a/b/issues/7", "", `{"owner":"a","repo":"b","number":7,"state":"","page":1}`},
			}
			for _, g := range good {
				if code, got := p.do(t, g.method, g.target, g.body); code != http.StatusOK || got != g.want {
					t.Errorf("%s %s %s: %d %s, want 200 %s", g.method, g.target, g.body, code, got, g.want)
				}
			}
			for _, c := range bad {
				if code, got := p.do(t, c.method, c.target, c.body); code != http.StatusUnprocessableEntity {
					t.Errorf("%s: %d %s, want 422", c.name, code, got)
				}
			}
			if code, got := p.do(t, http.MethodPost, userPath, `{"name":`); code != http.StatusBadRequest {
				t.Errorf("truncated body: %d %s, want 400", code, got)
			}
		})
	}
}

// TestPeersBenchRequests checks that the prepared requests of the
// benchmarks are answered 200 with a body of the expected size each time
// they are served again.
func TestPeersBenchRequests(t *testing.T) {
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) {
			p := pr.load(t)
			for _, tc := range []struct{ method, target, body, want string }{
				{http.MethodPost, userPath, userBody, userBody},
				{http.MethodGet, issueTarget, "", issueWant},
			} {
				serve, last := p.prepare(tc.method, tc.target, tc.body)
				for i := range 3 {
					serve()
					// The encoders that add a newline add one byte.
					if code, n := last(); code != http.StatusOK || (n != len(tc.want) && n != len(tc.want)+1) {
						t.Errorf("%s %s, prepared run %d: %d with %d body bytes, want 200 with %d", tc.method, tc.target, i, code, n, len(tc.want))
					}
				}
			}
		})
	}
}

// benchPeers runs one case in every peer, reporting cpu-ns/op like
// benchRequests.
func benchPeers(b *testing.B, method, target, body string) {
	for _, pr := range peers {
		b.Run(pr.name, func(b *testing.B) {
			serve, last := pr.load(b).prepare(method, target, body)
			serve()
			if code, _ := last(); code != http.StatusOK {
				b.Fatalf("status %d", code)
			}
			b.ReportAllocs()
			cpu0, ok := cpuTime()
			n := 0
			for b.Loop() {
				serve()
				n++
			}
			if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkEchoUser is the 2-field body: POST /users, validated, echoed.
func BenchmarkEchoUser(b *testing.B) { benchPeers(b, http.MethodPost, userPath, userBody) }

// BenchmarkIssueParams is the GET with string and integer path and query
// params, echoed.
func BenchmarkIssueParams(b *testing.B) { benchPeers(b, http.MethodGet, issueTarget, "") }
