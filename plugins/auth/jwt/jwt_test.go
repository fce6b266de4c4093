package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/openapi"
	graftjwt "github.com/graftgo/graft/plugins/auth/jwt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Claims is the claims type the tests' endpoints ask for.
type Claims struct {
	gojwt.RegisteredClaims
	Admin bool `json:"admin"`
}

type noteIn struct {
	Claims *Claims `plugin:""`
	Body   struct {
		Text string `json:"text" required:"true"`
	}
}

type noteOut struct {
	Body struct {
		Sub  string `json:"sub"`
		Text string `json:"text"`
	}
}

type openIn struct {
	Name string `query:"name"`
}

type openOut struct{ Body string }

func valid() Claims {
	now := time.Now()
	return Claims{RegisteredClaims: gojwt.RegisteredClaims{
		Subject: "ada", Issuer: "https://id.test", Audience: gojwt.ClaimStrings{"notes"},
		IssuedAt:  gojwt.NewNumericDate(now.Add(-time.Minute)),
		NotBefore: gojwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: gojwt.NewNumericDate(now.Add(time.Hour)),
	}}
}

func sign(t testing.TB, m gojwt.SigningMethod, c Claims, key any) string {
	t.Helper()
	s, err := gojwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// server starts an app with the plugin and a /notes endpoint needing
// claims, an /open endpoint that does not, and the OpenAPI extension.
func server(t *testing.T, cfg graftjwt.Config) (*graftest.Server, *atomic.Int64) {
	t.Helper()
	var bodyRead atomic.Int64
	app := graft.New(graft.Config{})
	app.Register(openapi.Extension(openapi.Info{Title: "notes", Version: "1"}))
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			c.Request.Body = countingBody{c.Request.Body, &bodyRead}
			return next(c)
		}
	})
	app.UsePlugins(graftjwt.New[Claims](cfg))
	graft.Post(app, "/notes", func(_ context.Context, in *noteIn) (*noteOut, error) {
		out := &noteOut{}
		out.Body.Sub, out.Body.Text = in.Claims.Subject, in.Body.Text
		return out, nil
	})
	graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) {
		return &openOut{Body: "hi " + in.Name}, nil
	})
	srv := graftest.Start(t, app)
	bodyReadOf[srv] = &bodyRead
	return srv, &bodyRead
}

// bodyReadOf maps a test server to its body-byte counter (tests here do
// not run in parallel).
var bodyReadOf = map[*graftest.Server]*atomic.Int64{}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func post(t *testing.T, srv *graftest.Server, auth, body string) (*http.Response, string) {
	t.Helper()
	bodyReadOf[srv].Store(0)
	var h []string
	if auth != "" {
		h = []string{"Authorization", auth}
	}
	res := srv.For(t).Post("/notes", "application/json", body, h...)
	return res.Response, res.Text()
}

func want401(t *testing.T, res *http.Response, body, detail string, bodyRead *atomic.Int64) {
	t.Helper()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if h := res.Header.Get("Www-Authenticate"); !strings.HasPrefix(h, `Bearer realm="notes"`) {
		t.Errorf("WWW-Authenticate %q", h)
	}
	var p graft.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != 401 || !strings.Contains(p.Detail, detail) {
		t.Errorf("problem %+v (%v), want detail with %q", p, err, detail)
	}
	if n := bodyRead.Load(); n != 0 {
		t.Errorf("%d body bytes read before the 401", n)
	}
}

func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv, bodyRead := server(t, graftjwt.Config{
		Algorithms: []string{"RS256"}, Key: &key.PublicKey,
		Issuer: "https://id.test", Audience: "notes", Realm: "notes",
	})
	good := sign(t, gojwt.SigningMethodRS256, valid(), key)

	res, body := post(t, srv, "Bearer "+good, `{"text":"hi"}`)
	if res.StatusCode != 200 || strings.TrimSpace(body) != `{"sub":"ada","text":"hi"}` {
		t.Fatalf("valid token: %d %s", res.StatusCode, body)
	}
	// lower-case scheme is the same scheme
	if res, body := post(t, srv, "bearer "+good, `{"text":"hi"}`); res.StatusCode != 200 {
		t.Fatalf("valid token, bearer in lower case: %d %s", res.StatusCode, body)
	}

	expired, notYet, wrongAud, wrongIss, noExp := valid(), valid(), valid(), valid(), valid()
	expired.ExpiresAt = gojwt.NewNumericDate(time.Now().Add(-time.Minute))
	notYet.NotBefore = gojwt.NewNumericDate(time.Now().Add(time.Hour))
	wrongAud.Audience = gojwt.ClaimStrings{"billing"}
	wrongIss.Issuer = "https://evil.test"
	noExp.ExpiresAt = nil

	// alg none: header {"alg":"none"}, no signature.
	none, err := gojwt.NewWithClaims(gojwt.SigningMethodNone, valid()).SignedString(gojwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// Key confusion: the RSA public key (PEM, as a verifier may hold it)
	// used as an HMAC secret.
	confused := sign(t, gojwt.SigningMethodHS256, valid(), pemOf(t, &key.PublicKey))
	// A valid signature by another key.
	forged := sign(t, gojwt.SigningMethodRS256, valid(), other)
	// The payload changed after signing.
	parts := strings.Split(good, ".")
	evil, _ := json.Marshal(map[string]any{"sub": "root", "iss": "https://id.test", "aud": "notes", "exp": time.Now().Add(time.Hour).Unix()})
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(evil) + "." + parts[2]

	for _, tc := range []struct{ name, auth, detail string }{
		{"no header", "", "send the header Authorization"},
		{"basic", "Basic YWRhOnB3", "send the header Authorization"},
		{"empty bearer", "Bearer ", "send the header Authorization"},
		{"garbage", "Bearer not.a.jwt", "malformed"},
		{"alg none", "Bearer " + none, "algorithm is not accepted"},
		{"HS256 with the RSA public key as secret", "Bearer " + confused, "algorithm is not accepted"},
		{"other key", "Bearer " + forged, "signature is not valid"},
		{"tampered", "Bearer " + tampered, "signature is not valid"},
		{"expired", "Bearer " + sign(t, gojwt.SigningMethodRS256, expired, key), "expired"},
		{"not yet valid", "Bearer " + sign(t, gojwt.SigningMethodRS256, notYet, key), "not valid yet"},
		{"wrong audience", "Bearer " + sign(t, gojwt.SigningMethodRS256, wrongAud, key), "wrong audience"},
		{"wrong issuer", "Bearer " + sign(t, gojwt.SigningMethodRS256, wrongIss, key), "wrong issuer"},
		{"no exp", "Bearer " + sign(t, gojwt.SigningMethodRS256, noExp, key), "required claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// a malformed body: a 401 proves it was never parsed
			res, body := post(t, srv, tc.auth, `{"text":`)
			want401(t, res, body, tc.detail, bodyRead)
			if tc.auth != "" && strings.Contains(body, strings.TrimPrefix(tc.auth, "Bearer ")) && len(tc.auth) > 7 {
				t.Errorf("the answer echoes the token: %s", body)
			}
			if h := res.Header.Get("Www-Authenticate"); strings.HasPrefix(tc.detail, "send") == strings.Contains(h, "invalid_token") {
				t.Errorf("WWW-Authenticate %q: invalid_token is for a token that was sent", h)
			}
		})
	}

	// An endpoint without a claims field is not guarded.
	res, err = srv.Client.Get(srv.URL + "/open?name=bo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "hi bo") {
		t.Errorf("/open: %d %s", res.StatusCode, b)
	}
}

func TestES256(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, bodyRead := server(t, graftjwt.Config{Algorithms: []string{"ES256"}, Key: &key.PublicKey, Realm: "notes"})
	if res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodES256, valid(), key), `{"text":"hi"}`); res.StatusCode != 200 {
		t.Fatalf("valid ES256: %d %s", res.StatusCode, body)
	}
	res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodES256, valid(), other), `{"text":"hi"}`)
	want401(t, res, body, "signature is not valid", bodyRead)
	res, body = post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodHS256, valid(), pemOf(t, &key.PublicKey)), `{"text":"hi"}`)
	want401(t, res, body, "algorithm is not accepted", bodyRead)
}

func TestHS256(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	srv, bodyRead := server(t, graftjwt.Config{Algorithms: []string{"HS256"}, Key: secret, Realm: "notes", Audience: "notes"})
	if res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodHS256, valid(), secret), `{"text":"hi"}`); res.StatusCode != 200 {
		t.Fatalf("valid HS256: %d %s", res.StatusCode, body)
	}
	// HS512 with the right secret: not an algorithm the config pins
	res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodHS512, valid(), secret), `{"text":"hi"}`)
	want401(t, res, body, "algorithm is not accepted", bodyRead)
}

// The signature, and so the OpenAPI document, shows the bearer scheme, the
// 401 and the Authorization param; the open endpoint has none of them.
func TestOpenAPI(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := server(t, graftjwt.Config{Algorithms: []string{"RS256"}, Key: &key.PublicKey})
	res, err := srv.Client.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			Security  []map[string][]string `json:"security"`
			Responses map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]string `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Components.SecuritySchemes["bearerAuth"]
	if s["type"] != "http" || s["scheme"] != "bearer" || s["bearerFormat"] != "JWT" {
		t.Errorf("securitySchemes.bearerAuth = %v", s)
	}
	op := doc.Paths["/notes"]["post"]
	if len(op.Security) != 1 || op.Security[0]["bearerAuth"] == nil {
		t.Errorf("POST /notes security = %v", op.Security)
	}
	if r, ok := op.Responses["401"]; !ok || r.Content["application/problem+json"] == nil {
		t.Errorf("POST /notes has no 401 problem+json response: %v", op.Responses)
	}
	open := doc.Paths["/open"]["get"]
	if len(open.Security) != 0 || open.Responses["401"].Content != nil {
		t.Errorf("GET /open is documented as guarded: %+v", open)
	}
}

func TestSignatureParam(t *testing.T) {
	app := graft.New(graft.Config{})
	app.UsePlugins(graftjwt.New[Claims](graftjwt.Config{Algorithms: []string{"HS256"}, Key: []byte("0123456789abcdef0123456789abcdef")}))
	ri := graft.Post(app, "/notes", func(_ context.Context, in *noteIn) (*noteOut, error) { return &noteOut{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	sig := ri.Signature()
	if len(sig.HeaderParams) != 1 || sig.HeaderParams[0].Name != "Authorization" || !sig.HeaderParams[0].Required || sig.HeaderParams[0].Field != "Claims" {
		t.Errorf("header params %+v", sig.HeaderParams)
	}
	if len(sig.Security) != 1 || sig.Security[0].Scheme.Name != "bearerAuth" {
		t.Errorf("security %+v", sig.Security)
	}
}

// Configuration mistakes stop start-up naming the endpoint and the plugin.
func TestSetupMistakes(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  graftjwt.Config
		want string
	}{
		{"no algorithms", graftjwt.Config{Key: &rsaKey.PublicKey}, "Config.Algorithms is empty"},
		{"none", graftjwt.Config{Algorithms: []string{"none"}, Key: []byte("x")}, `has "none"`},
		{"mixed", graftjwt.Config{Algorithms: []string{"RS256", "HS256"}, Key: &rsaKey.PublicKey}, "mixes"},
		{"RSA key for HS256", graftjwt.Config{Algorithms: []string{"HS256"}, Key: &rsaKey.PublicKey}, "does not verify HS*"},
		{"secret for RS256", graftjwt.Config{Algorithms: []string{"RS256"}, Key: []byte("0123456789abcdef0123456789abcdef")}, "does not verify RS*"},
		{"short secret", graftjwt.Config{Algorithms: []string{"HS256"}, Key: []byte("short")}, "at least 32"},
		{"no key", graftjwt.Config{Algorithms: []string{"RS256"}}, "no Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{})
			app.UsePlugins(graftjwt.New[Claims](tc.cfg))
			graft.Post(app, "/notes", func(_ context.Context, in *noteIn) (*noteOut, error) { return &noteOut{}, nil })
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			if msg := err.Error(); !strings.Contains(msg, "POST /notes") || !strings.Contains(msg, "jwt") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want the endpoint, the plugin and %q", msg, tc.want)
			}
		})
	}
}
