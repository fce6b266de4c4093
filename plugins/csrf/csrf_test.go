package csrf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/csrf"
)

var (
	keyA = bytes.Repeat([]byte("a"), 32)
	keyB = bytes.Repeat([]byte("b"), 32)
	keyC = bytes.Repeat([]byte("c"), 32)
)

type pageIn struct {
	CSRF csrf.TokenValue `plugin:""`
}

type pageOut struct {
	Body struct {
		Token string `json:"token"`
	}
}

type noteIn struct {
	C    *graft.Ctx `inject:""`
	Body struct {
		Text string `json:"text"`
	}
}

type noteOut struct {
	Body struct {
		Text  string `json:"text"`
		Token string `json:"token"`
	}
}

type formIn struct {
	Name string `form:"name"`
}

type uploadIn struct {
	Name string                `form:"name"`
	File *multipart.FileHeader `form:"file"`
}

type formOut struct {
	Body struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
		Sum  string `json:"sum"`
	}
}

// routes registers the test endpoints: GET /page shows the token (a
// plugin field), GET /plain reads nothing, POST /notes takes JSON, POST
// /form a form (a file too, when multipart) and POST /raw (a plain
// handler behind the middleware) echoes its raw body.
func routes(t testing.TB, app *graft.App[graft.Ctx], p *csrf.Plugin) {
	mw, err := p.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	graft.Get(app, "/page", func(_ context.Context, in *pageIn) (*pageOut, error) {
		out := &pageOut{}
		out.Body.Token = string(in.CSRF)
		return out, nil
	})
	graft.Get(app, "/plain", func(context.Context, *struct{}) (*struct{ Body string }, error) {
		return &struct{ Body string }{"ok"}, nil
	})
	graft.Post(app, "/notes", func(_ context.Context, in *noteIn) (*noteOut, error) {
		out := &noteOut{}
		out.Body.Text = in.Body.Text
		out.Body.Token = csrf.Token(in.C)
		return out, nil
	})
	graft.Post(app, "/form", func(_ context.Context, in *formIn) (*formOut, error) {
		out := &formOut{}
		out.Body.Name = in.Name
		return out, nil
	})
	graft.Post(app, "/upload", func(_ context.Context, in *uploadIn) (*formOut, error) {
		out := &formOut{}
		out.Body.Name = in.Name
		if in.File != nil {
			f, err := in.File.Open()
			if err != nil {
				return nil, err
			}
			defer f.Close()
			h := sha256.New()
			n, _ := io.Copy(h, f)
			out.Body.Size, out.Body.Sum = n, fmt.Sprintf("%x", h.Sum(nil))
		}
		return out, nil
	})
	app.POST("/raw", func(c *graft.Ctx) error {
		b, err := c.Body()
		if err != nil {
			return err
		}
		return c.Bytes(http.StatusOK, "text/plain", b)
	}, graft.WithMiddleware(mw))
}

func start(t *testing.T, cfg csrf.Config) *graftest.Server {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	p := csrf.New(cfg)
	app.UsePlugins(p)
	routes(t, app, p)
	return graftest.Start(t, app)
}

// issue GETs /page and returns the token and its cookie.
func issue(t *testing.T, s *graftest.Server, header ...string) (string, *http.Cookie) {
	t.Helper()
	res := s.Get("/page", header...).WantStatus(200)
	var page struct{ Token string }
	res.JSON(&page)
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == csrf.DefaultCookieName {
			ck = c
		}
	}
	if ck == nil {
		t.Fatalf("GET /page set no %s cookie; headers %v", csrf.DefaultCookieName, res.Header)
	}
	if page.Token != ck.Value {
		t.Fatalf("the page's token %q is not the cookie's %q", page.Token, ck.Value)
	}
	return page.Token, ck
}

func post(s *graftest.Server, path, ct, body string, header ...string) *graftest.Response {
	return s.Post(path, ct, body, header...)
}

func wantForbidden(t *testing.T, res *graftest.Response, reason, detail string) {
	t.Helper()
	res.WantStatus(http.StatusForbidden)
	p := res.Problem()
	if !strings.Contains(p.Detail, detail) {
		t.Errorf("%s: detail %q, want it to say %q", reason, p.Detail, detail)
	}
}

// A safe request gets a token in a cookie with the documented attributes;
// the next one, carrying it, keeps it.
func TestSafeRequestIssuesToken(t *testing.T) {
	s := start(t, csrf.Config{Keys: [][]byte{keyA}})
	tok, ck := issue(t, s)
	if !ck.Secure || ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie %+v; want Secure, not HttpOnly, SameSite=Lax, Path=/", ck)
	}
	if len(tok) < 80 || !strings.Contains(tok, ".") {
		t.Errorf("token %q; want RANDOM.MAC", tok)
	}
	res := s.Get("/page", "Cookie", ck.Name+"="+ck.Value).WantStatus(200)
	if sc := res.Header.Get("Set-Cookie"); sc != "" {
		t.Errorf("a request with a valid token got a new cookie: %s", sc)
	}
	var page struct{ Token string }
	res.JSON(&page)
	graftest.Equal(t, page.Token, tok)
	// Every safe method passes without a token, and a second issue is a
	// different token.
	for _, m := range []string{"HEAD", "OPTIONS", "TRACE"} {
		if res := s.Request(m, "/page", nil); res.StatusCode == http.StatusForbidden {
			t.Errorf("%s answered 403", m)
		}
	}
	if tok2, _ := issue(t, s); tok2 == tok {
		t.Error("two requests without a cookie got the same token")
	}
}

func TestUnsafeRequests(t *testing.T) {
	s := start(t, csrf.Config{Keys: [][]byte{keyA}, TrustedOrigins: []string{"https://partner.example"}})
	tok, _ := issue(t, s)
	other, _ := issue(t, s)
	foreign, _ := issue(t, start(t, csrf.Config{Keys: [][]byte{keyC}}))
	cookie := func(v string) string { return csrf.DefaultCookieName + "=" + v }
	// A flipped character in the MAC part.
	flip := "A"
	if tok[len(tok)-2] == 'A' {
		flip = "B"
	}
	tampered := tok[:len(tok)-2] + flip + tok[len(tok)-1:]
	// The random part changed, the MAC kept: its first character replaced
	// by another (a fixed "x" left one token in 64 unchanged, and the
	// test then failed, seeing the valid token accepted).
	first := byte('x')
	if tok[0] == first {
		first = 'y'
	}
	forged := string(first) + tok[1:]
	const body = `{"text":"hi"}`
	for _, tc := range []struct {
		name   string
		header []string
		status int
		detail string
	}{
		{"valid", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok}, 200, ""},
		{"valid among other cookies", []string{"Cookie", "a=1; " + cookie(`"`+tok+`"`) + "; b=2", "X-CSRF-Token", tok}, 200, ""},
		{"a cookie with a longer name", []string{"Cookie", "x" + cookie(tok), "X-CSRF-Token", tok}, 403, "missing the CSRF cookie"},
		{"no cookie", []string{"X-CSRF-Token", tok}, 403, "missing the CSRF cookie csrf_token"},
		{"no header", []string{"Cookie", cookie(tok)}, 403, "missing the CSRF token: send it in the X-CSRF-Token header or the csrf_token form field"},
		{"mismatch", []string{"Cookie", cookie(tok), "X-CSRF-Token", other}, 403, "does not match the csrf_token cookie"},
		{"tampered MAC", []string{"Cookie", cookie(tampered), "X-CSRF-Token", tampered}, 403, "bad signature"},
		{"forged random part", []string{"Cookie", cookie(forged), "X-CSRF-Token", forged}, 403, "bad signature"},
		{"not a token", []string{"Cookie", cookie("abc"), "X-CSRF-Token", "abc"}, 403, "bad signature"},
		{"another app's key", []string{"Cookie", cookie(foreign), "X-CSRF-Token", foreign}, 403, "bad signature"},
		{"cross-site", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403, `Sec-Fetch-Site: "cross-site"`},
		{"same-site is not same-origin", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok, "Sec-Fetch-Site", "same-site", "Origin", "https://sub.example"}, 403, "cross-origin request rejected"},
		{"old browser, foreign Origin", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok, "Origin", "https://evil.example"}, 403, `the Origin "https://evil.example" is neither this host`},
		{"same-origin", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok, "Sec-Fetch-Site", "same-origin"}, 200, ""},
		{"trusted origin", []string{"Cookie", cookie(tok), "X-CSRF-Token", tok, "Sec-Fetch-Site", "cross-site", "Origin", "https://partner.example"}, 200, ""},
		{"trusted origin still needs a token", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://partner.example"}, 403, "missing the CSRF cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(s.For(t), "/notes", "application/json", body, tc.header...)
			if tc.status == 200 {
				res.WantStatus(200)
				var out struct{ Text, Token string }
				res.JSON(&out)
				graftest.Equal(t, out.Text, "hi")
				graftest.Equal(t, out.Token, tok)
				return
			}
			wantForbidden(t, res, tc.name, tc.detail)
		})
	}
	// Every unsafe method is checked.
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.UsePlugins(csrf.New(csrf.Config{Keys: [][]byte{keyA}}))
	h := func(context.Context, *struct{}) (*struct{}, error) { return &struct{}{}, nil }
	graft.Put(app, "/x", h)
	graft.Patch(app, "/x", h)
	graft.Delete(app, "/x", h)
	sx := graftest.Start(t, app)
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		wantForbidden(t, sx.Request(m, "/x", nil), m, "missing the CSRF cookie")
	}
}

// Rotation: a token signed with the previous key is accepted by an app
// whose keys are [new, old], and a safe request carrying it gets one
// signed with the new key; dropping the old key retires its tokens.
func TestKeyRotation(t *testing.T) {
	old := start(t, csrf.Config{Keys: [][]byte{keyA}})
	tok, _ := issue(t, old)
	rotated := start(t, csrf.Config{Keys: [][]byte{keyB, keyA}})
	cookie := csrf.DefaultCookieName + "=" + tok
	post(rotated, "/notes", "application/json", `{"text":"r"}`, "Cookie", cookie, "X-CSRF-Token", tok).WantStatus(200)
	res := rotated.Get("/page", "Cookie", cookie).WantStatus(200)
	var fresh string
	for _, c := range res.Cookies() {
		if c.Name == csrf.DefaultCookieName {
			fresh = c.Value
		}
	}
	if fresh == "" || fresh == tok {
		t.Fatalf("a safe request with an old key's token got cookie %q; want a new token", fresh)
	}
	retired := start(t, csrf.Config{Keys: [][]byte{keyB}})
	wantForbidden(t, post(retired, "/notes", "application/json", `{}`, "Cookie", cookie, "X-CSRF-Token", tok), "retired", "bad signature")
	post(retired, "/notes", "application/json", `{}`, "Cookie", csrf.DefaultCookieName+"="+fresh, "X-CSRF-Token", fresh).WantStatus(200)
}

// With SessionKey the token is bound to the user: another user's token
// is a bad signature, and a safe request for another user reissues.
func TestSessionKeyBinding(t *testing.T) {
	s := start(t, csrf.Config{Keys: [][]byte{keyA}, SessionKey: func(c *graft.Ctx) string { return c.Header("X-User") }})
	tok, ck := issue(t, s, "X-User", "alice")
	cookie := ck.Name + "=" + ck.Value
	post(s, "/notes", "application/json", `{}`, "Cookie", cookie, "X-CSRF-Token", tok, "X-User", "alice").WantStatus(200)
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Cookie", cookie, "X-CSRF-Token", tok, "X-User", "bob"), "bob", "issued for another session")
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Cookie", cookie, "X-CSRF-Token", tok), "anonymous", "bad signature")
	bobs, _ := issue(t, s, "Cookie", cookie, "X-User", "bob")
	if bobs == tok {
		t.Fatal("bob's safe request kept alice's token")
	}
	post(s, "/notes", "application/json", `{}`, "Cookie", csrf.DefaultCookieName+"="+bobs, "X-CSRF-Token", bobs, "X-User", "bob").WantStatus(200)
}

// The token may come in the form field of an urlencoded or multipart
// body; the binder and the handler still get the whole body.
func TestFormField(t *testing.T) {
	s := start(t, csrf.Config{Keys: [][]byte{keyA}})
	tok, _ := issue(t, s)
	cookie := csrf.DefaultCookieName + "=" + tok

	t.Run("urlencoded", func(t *testing.T) {
		s := s.For(t)
		form := url.Values{"name": {"Ann & Bo"}, "csrf_token": {tok}}.Encode()
		res := post(s, "/form", "application/x-www-form-urlencoded", form, "Cookie", cookie).WantStatus(200)
		var out struct{ Name string }
		res.JSON(&out)
		graftest.Equal(t, out.Name, "Ann & Bo")
		// A plain handler behind the middleware reads the raw body.
		graftest.Equal(t, post(s, "/raw", "application/x-www-form-urlencoded", form, "Cookie", cookie).WantStatus(200).Text(), form)
		wantForbidden(t, post(s, "/form", "application/x-www-form-urlencoded", "name=x&csrf_token=nope", "Cookie", cookie), "wrong field", "does not match")
		wantForbidden(t, post(s, "/form", "application/x-www-form-urlencoded", "name=x", "Cookie", cookie), "no field", "missing the CSRF token")
		// The header wins over the field.
		post(s, "/form", "application/x-www-form-urlencoded", "name=x&csrf_token=nope", "Cookie", cookie, "X-CSRF-Token", tok).WantStatus(200)
	})

	file := bytes.Repeat([]byte("0123456789abcdef"), 40<<10/16) // 40 KiB
	fileSum := fmt.Sprintf("%x", sha256.Sum256(file))
	multipartBody := func(tokenFirst bool, token string) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		writeToken := func() {
			if token != "" {
				_ = mw.WriteField("csrf_token", token)
			}
		}
		if tokenFirst {
			writeToken()
		}
		_ = mw.WriteField("name", "Cy")
		fw, _ := mw.CreateFormFile("file", "data.bin")
		_, _ = fw.Write(file)
		if !tokenFirst {
			writeToken()
		}
		_ = mw.Close()
		return mw.FormDataContentType(), b.String()
	}
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("multipart, token first %v", first), func(t *testing.T) {
			s := s.For(t)
			ct, body := multipartBody(first, tok)
			res := post(s, "/upload", ct, body, "Cookie", cookie).WantStatus(200)
			var out struct {
				Name string
				Size int64
				Sum  string
			}
			res.JSON(&out)
			graftest.Equal(t, out.Name, "Cy")
			graftest.Equal(t, out.Size, int64(len(file)))
			graftest.Equal(t, out.Sum, fileSum)
			if got := post(s, "/raw", ct, body, "Cookie", cookie).WantStatus(200).Text(); got != body {
				t.Errorf("the plain handler read %d bytes of the %d sent, or other bytes", len(got), len(body))
			}
			ct, body = multipartBody(first, "")
			wantForbidden(t, post(s, "/upload", ct, body, "Cookie", cookie), "no field", "missing the CSRF token")
			ct, body = multipartBody(first, other(t, s))
			wantForbidden(t, post(s, "/upload", ct, body, "Cookie", cookie), "wrong field", "does not match")
		})
	}
}

func other(t *testing.T, s *graftest.Server) string {
	tok, _ := issue(t, s)
	return tok
}

// The form field is read within the body limit: a bigger body is a 413.
func TestFormFieldBodyLimit(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler), BodyLimit: 1024})
	p := csrf.New(csrf.Config{Keys: [][]byte{keyA}})
	app.UsePlugins(p)
	routes(t, app, p)
	s := graftest.Start(t, app)
	tok, _ := issue(t, s)
	big := "name=" + strings.Repeat("x", 2048) + "&csrf_token=" + tok
	post(s, "/form", "application/x-www-form-urlencoded", big, "Cookie", csrf.DefaultCookieName+"="+tok).WantStatus(http.StatusRequestEntityTooLarge)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("name", strings.Repeat("x", 2048))
	_ = mw.WriteField("csrf_token", tok)
	_ = mw.Close()
	post(s, "/upload", mw.FormDataContentType(), b.String(), "Cookie", csrf.DefaultCookieName+"="+tok).WantStatus(http.StatusRequestEntityTooLarge)
}

// Synchronizer mode keeps the token in the session.
func TestSynchronizer(t *testing.T) {
	store := sessions.NewMemoryStore()
	sx := sessions.Extension(sessions.Options{Store: store})
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(sx)
	p := csrf.New(csrf.Config{Mode: csrf.Synchronizer, Sessions: sx})
	app.UsePlugins(p)
	routes(t, app, p)
	s := graftest.Start(t, app)

	// A page that renders no token touches no session.
	if res := s.Get("/plain").WantStatus(200); len(res.Cookies()) != 0 || store.Len() != 0 {
		t.Fatalf("GET /plain set %v and stored %d sessions; want none", res.Cookies(), store.Len())
	}
	res := s.Get("/page").WantStatus(200)
	var page struct{ Token string }
	res.JSON(&page)
	var sess string
	for _, c := range res.Cookies() {
		if c.Name == "session" {
			sess = c.Name + "=" + c.Value
		}
	}
	if page.Token == "" || sess == "" {
		t.Fatalf("GET /page: token %q, session cookie %q", page.Token, sess)
	}
	// The same session keeps its token.
	res = s.Get("/page", "Cookie", sess).WantStatus(200)
	var again struct{ Token string }
	res.JSON(&again)
	graftest.Equal(t, again.Token, page.Token)

	res = post(s, "/notes", "application/json", `{"text":"s"}`, "Cookie", sess, "X-CSRF-Token", page.Token).WantStatus(200)
	var out struct{ Token string }
	res.JSON(&out)
	graftest.Equal(t, out.Token, page.Token)
	post(s, "/form", "application/x-www-form-urlencoded", "name=n&csrf_token="+url.QueryEscape(page.Token), "Cookie", sess).WantStatus(200)
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "X-CSRF-Token", page.Token), "no session", "the session holds no CSRF token")
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Cookie", sess), "no header", "missing the CSRF token")
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Cookie", sess, "X-CSRF-Token", page.Token+"x"), "mismatch", "does not match the session's")
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Cookie", sess, "X-CSRF-Token", page.Token, "Sec-Fetch-Site", "cross-site"), "cross-site", "cross-origin")
}

// ResponseHeader sends the token on safe requests: for an HttpOnly
// cookie, or a Synchronizer token for scripts.
func TestResponseHeader(t *testing.T) {
	s := start(t, csrf.Config{Keys: [][]byte{keyA}, HTTPOnly: true, InsecureCookie: true, ResponseHeader: "X-CSRF-Token", MaxAge: 3600e9, CookieName: "__csrf"})
	res := s.Get("/plain").WantStatus(200)
	tok := res.Header.Get("X-CSRF-Token")
	cks := res.Cookies()
	if tok == "" || len(cks) != 1 || cks[0].Name != "__csrf" || cks[0].Value != tok || !cks[0].HttpOnly || cks[0].Secure || cks[0].MaxAge != 3600 {
		t.Fatalf("header %q, cookies %+v", tok, cks)
	}
	post(s, "/notes", "application/json", `{}`, "Cookie", "__csrf="+tok, "X-CSRF-Token", tok).WantStatus(200)

	sx := sessions.Extension(sessions.Options{Store: sessions.NewMemoryStore()})
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(sx)
	p := csrf.New(csrf.Config{Mode: csrf.Synchronizer, Sessions: sx, ResponseHeader: "X-CSRF-Token"})
	app.UsePlugins(p)
	routes(t, app, p)
	ss := graftest.Start(t, app)
	res = ss.Get("/plain").WantStatus(200)
	if res.Header.Get("X-CSRF-Token") == "" || len(res.Cookies()) != 1 {
		t.Fatalf("synchronizer: header %q, cookies %v", res.Header.Get("X-CSRF-Token"), res.Cookies())
	}
	post(ss, "/notes", "application/json", `{}`, "Cookie", res.Cookies()[0].Name+"="+res.Cookies()[0].Value, "X-CSRF-Token", res.Header.Get("X-CSRF-Token")).WantStatus(200)
}

// OriginOnly is net/http's CrossOriginProtection, with no token.
func TestOriginOnly(t *testing.T) {
	s := start(t, csrf.Config{Mode: csrf.OriginOnly})
	post(s, "/notes", "application/json", `{"text":"o"}`).WantStatus(200)
	post(s, "/notes", "application/json", `{}`, "Sec-Fetch-Site", "same-origin").WantStatus(200)
	post(s, "/notes", "application/json", `{}`, "Sec-Fetch-Site", "none").WantStatus(200)
	wantForbidden(t, post(s, "/notes", "application/json", `{}`, "Sec-Fetch-Site", "cross-site"), "cross-site", "cross-origin request rejected")
	if res := s.Get("/page").WantStatus(200); len(res.Cookies()) != 0 {
		t.Errorf("OriginOnly set cookies %v", res.Cookies())
	}
	// SkipOriginCheck: tokens alone decide.
	sk := start(t, csrf.Config{Keys: [][]byte{keyA}, SkipOriginCheck: true})
	tok, _ := issue(t, sk)
	post(sk, "/notes", "application/json", `{}`, "Cookie", "csrf_token="+tok, "X-CSRF-Token", tok, "Sec-Fetch-Site", "cross-site").WantStatus(200)
}

// The 403 carries its reason for errors.Is in an error handler.
func TestReasonInError(t *testing.T) {
	var got error
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler), ErrorHandler: func(c *graft.Ctx, err error) {
		got = err
		graft.DefaultErrorHandler(c, err)
	}})
	p := csrf.New(csrf.Config{Keys: [][]byte{keyA}})
	app.UsePlugins(p)
	routes(t, app, p)
	s := graftest.Start(t, app)
	post(s, "/notes", "application/json", `{}`).WantStatus(403)
	if !errors.Is(got, csrf.ErrMissingCookie) {
		t.Errorf("error %v; want csrf.ErrMissingCookie", got)
	}
}

// Unsafe endpoints list the header (and a form endpoint the field) and
// the 403; safe ones neither.
func TestSignature(t *testing.T) {
	app := graft.New(graft.Config{})
	app.UsePlugins(csrf.New(csrf.Config{Keys: [][]byte{keyA}}))
	notes := graft.Post(app, "/notes", func(context.Context, *noteIn) (*noteOut, error) { return &noteOut{}, nil })
	form := graft.Post(app, "/form", func(context.Context, *formIn) (*formOut, error) { return &formOut{}, nil })
	page := graft.Get(app, "/page", func(context.Context, *pageIn) (*pageOut, error) { return &pageOut{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	has403 := func(sig *graft.Signature) bool {
		for _, r := range sig.Returns {
			if r.Status == 403 && r.MediaType == "application/problem+json" {
				return true
			}
		}
		return false
	}
	sig := notes.Signature()
	if len(sig.HeaderParams) != 1 || sig.HeaderParams[0].Name != "X-CSRF-Token" || sig.HeaderParams[0].Required || !has403(sig) {
		t.Errorf("POST /notes: header params %+v, returns %+v", sig.HeaderParams, sig.Returns)
	}
	fsig := form.Signature()
	found := false
	for _, f := range fsig.Form.Fields {
		found = found || f.Name == "csrf_token"
	}
	if !found || !has403(fsig) {
		t.Errorf("POST /form: form fields %+v", fsig.Form.Fields)
	}
	if psig := page.Signature(); len(psig.HeaderParams) != 0 || has403(psig) {
		t.Errorf("GET /page: header params %+v, returns %+v", psig.HeaderParams, psig.Returns)
	}
}

// Configuration mistakes stop start-up naming the endpoint and the plugin.
func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		cfg  csrf.Config
		want string
	}{
		{csrf.Config{}, "csrf: Config.Keys is empty"},
		{csrf.Config{Keys: [][]byte{[]byte("short")}}, "Config.Keys[0] is 5 bytes"},
		{csrf.Config{Keys: [][]byte{keyA, keyA}}, "Config.Keys[1] repeats Config.Keys[0]"},
		{csrf.Config{Mode: csrf.Synchronizer}, "Config.Sessions is nil"},
		{csrf.Config{Mode: 7}, "Config.Mode Mode(7) is not a mode"},
		{csrf.Config{Mode: csrf.OriginOnly, SkipOriginCheck: true}, "checks nothing"},
		{csrf.Config{Keys: [][]byte{keyA}, TrustedOrigins: []string{"evil.example/x"}}, `Config.TrustedOrigins has "evil.example/x"`},
		{csrf.Config{Keys: [][]byte{keyA}, CookieName: "bad name"}, `Config.CookieName "bad name" is not a valid cookie name`},
		{csrf.Config{Keys: [][]byte{keyA}, CookieName: "__Host-csrf", InsecureCookie: true}, "__Host- prefix"},
		{csrf.Config{Keys: [][]byte{keyA}, MaxAge: -1}, "Config.MaxAge"},
	} {
		app := graft.New(graft.Config{})
		app.UsePlugins(csrf.New(tc.cfg))
		graft.Post(app, "/notes", func(context.Context, *noteIn) (*noteOut, error) { return &noteOut{}, nil })
		msg := graftest.StartError(t, app)
		if !strings.Contains(msg, "endpoint POST /notes: plugin *csrf.Plugin: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("start-up error %q; want it to name the endpoint, the plugin and %q", msg, tc.want)
		}
		if _, err := csrf.New(tc.cfg).Middleware(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Middleware: error %v; want %q", err, tc.want)
		}
	}
}
