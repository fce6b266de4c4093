package jwt_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	graftjwt "github.com/graftgo/graft/plugins/auth/jwt"
)

// Keyfunc picks the key by "kid" (rotation); an unknown kid is a 401. The
// algorithm is still pinned: a token naming a good kid but signed HS256
// with the public key is refused before Keyfunc runs.
func TestKeyfuncRotation(t *testing.T) {
	oldPub, oldKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	newPub, newKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{"2025": oldPub, "2026": newPub}
	var calls atomic.Int64
	srv, bodyRead := server(t, graftjwt.Config{Algorithms: []string{"EdDSA"}, Realm: "notes",
		Keyfunc: func(tok *gojwt.Token) (any, error) {
			calls.Add(1)
			k, ok := keys[tok.Header["kid"].(string)]
			if !ok {
				return nil, errors.New("unknown kid")
			}
			return k, nil
		}})
	signKid := func(m gojwt.SigningMethod, kid string, key any) string {
		tok := gojwt.NewWithClaims(m, valid())
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		kid string
		key ed25519.PrivateKey
	}{{"2025", oldKey}, {"2026", newKey}} {
		if res, body := post(t, srv, "Bearer "+signKid(gojwt.SigningMethodEdDSA, tc.kid, tc.key), `{"text":"hi"}`); res.StatusCode != 200 {
			t.Errorf("kid %s: %d %s", tc.kid, res.StatusCode, body)
		}
	}
	res, body := post(t, srv, "Bearer "+signKid(gojwt.SigningMethodEdDSA, "2026", oldKey), `{"text":`)
	want401(t, res, body, "signature is not valid", bodyRead)
	res, body = post(t, srv, "Bearer "+signKid(gojwt.SigningMethodEdDSA, "1999", oldKey), `{"text":`)
	want401(t, res, body, "no key verifies", bodyRead)
	before := calls.Load()
	res, body = post(t, srv, "Bearer "+signKid(gojwt.SigningMethodHS256, "2026", []byte(newPub)), `{"text":`)
	want401(t, res, body, "algorithm is not accepted", bodyRead)
	if calls.Load() != before {
		t.Error("Keyfunc ran for a token whose algorithm is not pinned")
	}
}

// Leeway accepts a token expired within it, not beyond.
func TestLeeway(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	srv, bodyRead := server(t, graftjwt.Config{Algorithms: []string{"HS256"}, Key: secret, Leeway: time.Minute, Realm: "notes"})
	c := valid()
	c.ExpiresAt = gojwt.NewNumericDate(time.Now().Add(-30 * time.Second))
	if res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodHS256, c, secret), `{"text":"hi"}`); res.StatusCode != 200 {
		t.Errorf("expired 30 s ago, leeway 1 min: %d %s", res.StatusCode, body)
	}
	c.ExpiresAt = gojwt.NewNumericDate(time.Now().Add(-2 * time.Minute))
	res, body := post(t, srv, "Bearer "+sign(t, gojwt.SigningMethodHS256, c, secret), `{"text":`)
	want401(t, res, body, "expired", bodyRead)
}

// An endpoint without a claims field allocates as much with the plugin
// applied as on an app without it.
func TestUntouchedEndpointCostsNothing(t *testing.T) {
	allocs := func(with bool) float64 {
		app := graft.New(graft.Config{})
		if with {
			app.UsePlugins(graftjwt.New[Claims](graftjwt.Config{Algorithms: []string{"HS256"}, Key: []byte("0123456789abcdef0123456789abcdef")}))
		}
		graft.Get(app, "/open", func(_ context.Context, in *openIn) (*openOut, error) { return &openOut{Body: in.Name}, nil })
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(context.Background())
		req := httptest.NewRequest("GET", "/open?name=x", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	if bare, with := allocs(false), allocs(true); bare != with {
		t.Errorf("%v allocs per request with the plugin on an endpoint it leaves alone, %v without", with, bare)
	}
}
