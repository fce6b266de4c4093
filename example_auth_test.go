package graft_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/graftest"
)

// Principal is who a bearer token says the caller is.
type Principal struct {
	Subject string
	Admin   bool
}

// AuthPlugin is the worked auth plugin of docs/plugins.md. On an endpoint
// whose input has a *Principal plugin field it
//
//   - turns away, in the pre-bind phase, a request without a bearer token:
//     401 before the body is read or any provider is built;
//   - owns the Authorization header param: it is bound into the field by
//     the plugin's decoder, which verifies the token (401 when it is not
//     valid), and listed in the signature like the endpoint's own params;
//   - adds the 401 outcome to the signature.
//
// Endpoints without the field are left as they are.
func AuthPlugin(verify func(token string) (*Principal, bool)) graft.Plugin {
	return graft.NamedPlugin("auth", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		user := graft.PluginField[*Principal](sig)
		if user == nil {
			return next, nil
		}
		sig.PreBind(func(c *graft.Ctx) error {
			if _, ok := bearerToken(c.Header("Authorization")); !ok {
				return unauthorized("send the header Authorization: Bearer TOKEN")
			}
			return nil
		})
		user.Bind(graft.Param{Name: "Authorization", In: graft.InHeader, Required: true, Doc: "Bearer token"},
			func(_ *graft.Ctx, raw string) (*Principal, error) {
				tok, _ := bearerToken(raw)
				p, ok := verify(tok)
				if !ok {
					return nil, unauthorized("the bearer token is not valid")
				}
				return p, nil
			})
		sig.AddReturn(graft.Return{
			Status: http.StatusUnauthorized, Type: reflect.TypeFor[graft.Problem](),
			MediaType: "application/problem+json", Encoder: "problem",
			Description: "no valid bearer token",
		})
		return next, nil // nothing to wrap: the principal arrives bound
	}))
}

func bearerToken(h string) (string, bool) {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return tok, ok && tok != ""
}

func unauthorized(detail string) error {
	return &graft.HTTPError{Status: http.StatusUnauthorized, Detail: detail,
		Header: http.Header{"Www-Authenticate": {`Bearer realm="notes"`}}}
}

// NoteIn is the input of the notes endpoint: the principal comes from the
// auth plugin, the note from the JSON body.
type NoteIn struct {
	User *Principal `plugin:""`
	Body struct {
		Text string `json:"text" required:"true" minLength:"1"`
	}
}

// NoteOut is the created note.
type NoteOut struct {
	Status int `default:"201"`
	Body   struct {
		By   string `json:"by"`
		Text string `json:"text"`
	}
}

func createNote(_ context.Context, in *NoteIn) (*NoteOut, error) {
	out := &NoteOut{}
	out.Body.By, out.Body.Text = in.User.Subject, in.Body.Text
	return out, nil
}

// verifyToken accepts one token; a real plugin checks a JWT.
func verifyToken(tok string) (*Principal, bool) {
	if tok != "s3cret" {
		return nil, false
	}
	return &Principal{Subject: "ada"}, true
}

// An auth plugin that acts before binding, owns the Authorization header
// param and declares its 401 outcome.
func ExampleSignature_PreBind() {
	app := graft.New(graft.Config{})
	app.UsePlugins(AuthPlugin(verifyToken))
	ri := graft.Post(app, "/notes", createNote)
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())

	sig := graft.SignatureOf(ri)
	for _, p := range sig.HeaderParams {
		fmt.Println("param:", p.In, p.Name, p.Required, "->", p.Field)
	}
	for _, r := range sig.Returns {
		if r.Status == http.StatusUnauthorized {
			fmt.Println("outcome:", r.Status, r.MediaType, r.Description)
		}
	}
	for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret"} {
		req := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"text":"hi"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// param: header Authorization true -> User
	// outcome: 401 application/problem+json no valid bearer token
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"send the header Authorization: Bearer TOKEN","instance":"/notes"}
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"the bearer token is not valid","instance":"/notes"}
	// 201 {"by":"ada","text":"hi"}
}

// NoteAudit is a scoped dependency of the audited notes endpoint: built
// once per request that gets past binding.
type NoteAudit struct{ By string }

type auditedNoteIn struct {
	NoteIn
	Audit *NoteAudit `inject:""`
}

// countingBody counts the bytes the endpoint reads from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// The worked auth plugin over a real listener: a request without a valid
// token is answered 401 problem+json before its body is read and before
// the scoped provider runs; with the token the handler sees the principal.
func TestAuthPluginOverListener(t *testing.T) {
	var bodyRead, audits atomic.Int64
	app := graft.New(graft.Config{})
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			c.Request.Body = countingBody{c.Request.Body, &bodyRead}
			return next(c)
		}
	})
	di.Provide(app.Graph(), di.Scoped, di.Func1(func(r *http.Request) (*NoteAudit, error) {
		audits.Add(1)
		return &NoteAudit{By: r.RemoteAddr}, nil
	}))
	app.UsePlugins(AuthPlugin(verifyToken))
	var seen atomic.Pointer[Principal]
	graft.Post(app, "/notes", func(_ context.Context, in *auditedNoteIn) (*NoteOut, error) {
		if in.Audit == nil {
			t.Error("the scoped dependency was not injected")
		}
		seen.Store(in.User)
		return createNote(context.Background(), &in.NoteIn)
	})
	srv := graftest.Start(t, app)
	post := func(auth, body string) (*graftest.Response, string) {
		var h []string
		if auth != "" {
			h = []string{"Authorization", auth}
		}
		res := srv.Post("/notes", "application/json", body, h...)
		return res, res.Text()
	}

	for _, tc := range []struct{ name, auth, body, detail string }{
		{"no token", "", `{"text":"hi"}`, "send the header Authorization"},
		{"not bearer", "Basic YWRhOnB3", `{"text":"hi"}`, "send the header Authorization"},
		{"bad token", "Bearer wrong", `{"text":"hi"}`, "not valid"},
		// the body is not even looked at: a 401, not a 400 or a 422
		{"bad token, malformed body", "Bearer wrong", `{"text":`, "not valid"},
		{"no token, invalid body", "", `{"text":""}`, "send the header Authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := post(tc.auth, tc.body)
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if h := res.Header.Get("Www-Authenticate"); h != `Bearer realm="notes"` {
				t.Errorf("WWW-Authenticate %q", h)
			}
			var p graft.Problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != 401 || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v (%v), want detail with %q", p, err, tc.detail)
			}
			if n := bodyRead.Load(); n != 0 {
				t.Errorf("%d body bytes read before the 401", n)
			}
			if n := audits.Load(); n != 0 {
				t.Errorf("scoped provider built %d times before the 401", n)
			}
		})
	}

	res, body := post("Bearer s3cret", `{"text":"hello"}`)
	if res.StatusCode != http.StatusCreated || strings.TrimSpace(body) != `{"by":"ada","text":"hello"}` {
		t.Fatalf("good token: %d %s", res.StatusCode, body)
	}
	if p := seen.Load(); p == nil || p.Subject != "ada" {
		t.Errorf("the handler saw principal %+v", p)
	}
	if bodyRead.Load() != int64(len(`{"text":"hello"}`)) || audits.Load() != 1 {
		t.Errorf("good token: %d body bytes read, %d audits built; want the whole body and 1", bodyRead.Load(), audits.Load())
	}
	// With the token, the body is validated as usual: a 422, not a 401,
	// and binding fails before the scope is made.
	if res, body := post("Bearer s3cret", `{"text":""}`); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("good token, invalid body: %d %s", res.StatusCode, body)
	}
	if n := audits.Load(); n != 1 {
		t.Errorf("good token, invalid body: scoped provider built (%d in all)", n)
	}
}
