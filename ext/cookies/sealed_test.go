package cookies_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
)

var (
	keyA = bytes.Repeat([]byte{0xA1}, 32)
	keyB = bytes.Repeat([]byte{0xB2}, 32)
	keyC = bytes.Repeat([]byte{0xC3}, 48)
)

// logBuf collects the app's log records, debug level included.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// sealedServer serves /put?kind=signed|encrypted&v=… (sets the cookie "s")
// and /get?kind=… (answers the cookie's value, or "absent") on a real
// listener, with the given keys.
func sealedServer(t *testing.T, opts cookies.Options) (*httptest.Server, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	app := graft.NewWithContext[Ctx](graft.Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	app.Register(cookies.Extension(opts))
	app.GET("/put", func(c *Ctx) error {
		var err error
		if c.Query("kind") == "encrypted" {
			err = c.PutEncrypted("s", c.Query("v"))
		} else {
			err = c.PutSigned("s", c.Query("v"))
		}
		if err != nil {
			return err
		}
		return c.Text(200, "ok")
	})
	app.GET("/get", func(c *Ctx) error {
		var v string
		var ok bool
		if c.Query("kind") == "encrypted" {
			v, ok = c.EncryptedCookie("s")
		} else {
			v, ok = c.SignedCookie("s")
		}
		if !ok {
			return c.Text(200, "absent")
		}
		return c.Text(200, "value:"+v)
	})
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv, logs
}

func put(t *testing.T, srv *httptest.Server, kind, v string) *http.Cookie {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + "/put?kind=" + kind + "&v=" + v)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || len(res.Cookies()) != 1 {
		t.Fatalf("put %s: %d with cookies %v", kind, res.StatusCode, res.Header["Set-Cookie"])
	}
	return res.Cookies()[0]
}

func get(t *testing.T, srv *httptest.Server, kind, raw string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/get?kind="+kind, nil)
	req.Header.Set("Cookie", "s="+raw)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestSealedRoundTrip(t *testing.T) {
	srv, _ := sealedServer(t, cookies.Options{Path: "/", HTTPOnly: true, Keys: [][]byte{keyA}, SealedMaxAge: time.Hour})
	for _, kind := range []string{"signed", "encrypted"} {
		ck := put(t, srv, kind, "user-42")
		if ck.MaxAge != 3600 || !ck.HttpOnly || ck.Path != "/" {
			t.Errorf("%s: cookie attributes %+v, want Max-Age 3600, HttpOnly, Path /", kind, ck)
		}
		if got := get(t, srv, kind, ck.Value); got != "value:user-42" {
			t.Errorf("%s: read back %q", kind, got)
		}
		if kind == "encrypted" && strings.Contains(ck.Value, "dXNlci00Mg") {
			t.Errorf("encrypted cookie shows its value in base64: %s", ck.Value)
		}
	}
}

// TestSealedRefusals: each way a cookie can be wrong reads as absent and
// is logged at debug with the reason.
func TestSealedRefusals(t *testing.T) {
	srv, logs := sealedServer(t, cookies.Options{Keys: [][]byte{keyA}})
	other, err := cookies.NewCodec(keyB)
	if err != nil {
		t.Fatal(err)
	}
	own, err := cookies.NewCodec(keyA)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	for _, kind := range []string{"signed", "encrypted"} {
		good := put(t, srv, kind, "admin=false").Value
		seal := own.Sign
		otherSeal := other.Sign
		if kind == "encrypted" {
			seal, otherSeal = own.Seal, other.Seal
		}
		for _, tc := range []struct{ name, raw, reason string }{
			{"tampered", flip(good, len(good)/3), ""},
			{"tampered signature", flip(good, len(good)-2), ""},
			{"wrong key", otherSeal("s", "admin=true", time.Time{}), cookies.ErrInvalid.Error()},
			{"another cookie's value", seal("t", "admin=true", time.Time{}), cookies.ErrInvalid.Error()},
			{"expired", seal("s", "admin=true", past), cookies.ErrExpired.Error()},
			{"malformed", "not-a-sealed-cookie!", cookies.ErrMalformed.Error()},
			{"truncated", good[:10], ""},
		} {
			if got := get(t, srv, kind, tc.raw); got != "absent" {
				t.Errorf("%s %s: read as %q, want absent", kind, tc.name, got)
			}
			if tc.reason != "" && !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("%s %s: no debug record with %q in\n%s", kind, tc.name, tc.reason, logs)
			}
		}
	}
	if n := strings.Count(logs.String(), "level=DEBUG msg=\"cookies: sealed cookie refused\" cookie=s"); n != 14 {
		t.Errorf("%d debug records of refused cookies, want 14:\n%s", n, logs)
	}
}

// flip changes one character of s, keeping it in the base64url alphabet.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestKeyRotation: a cookie made with the old key is read while the old
// key is still listed after the new one, new cookies are made with the new
// key, and once the old key is dropped its cookies read as absent.
func TestKeyRotation(t *testing.T) {
	before, _ := sealedServer(t, cookies.Options{Keys: [][]byte{keyA}})
	during, _ := sealedServer(t, cookies.Options{Keys: [][]byte{keyB, keyA}})
	after, _ := sealedServer(t, cookies.Options{Keys: [][]byte{keyB}})
	for _, kind := range []string{"signed", "encrypted"} {
		old := put(t, before, kind, "v1").Value
		if got := get(t, during, kind, old); got != "value:v1" {
			t.Errorf("%s: old key's cookie during rotation read as %q", kind, got)
		}
		fresh := put(t, during, kind, "v2").Value
		if got := get(t, after, kind, fresh); got != "value:v2" {
			t.Errorf("%s: cookie made during rotation is not signed by the new key: %q", kind, got)
		}
		if got := get(t, after, kind, old); got != "absent" {
			t.Errorf("%s: retired key's cookie read as %q", kind, got)
		}
	}
}

func TestCodecErrors(t *testing.T) {
	for _, tc := range []struct {
		keys [][]byte
		want string
	}{
		{nil, "no keys"},
		{[][]byte{[]byte("short")}, "key 0 is 5 bytes"},
		{[][]byte{keyA, keyC, keyA}, "key 2 repeats key 0"},
	} {
		if _, err := cookies.NewCodec(tc.keys...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewCodec(%d keys): %v, want %q", len(tc.keys), err, tc.want)
		}
	}
	c, _ := cookies.NewCodec(keyC, keyA)
	now := time.Now()
	if v, err := c.Verify("n", c.Sign("n", "", now.Add(time.Second)), now); err != nil || v != "" {
		t.Errorf("empty value: %q %v", v, err)
	}
	if _, err := c.Verify("n", c.Sign("n", "x", now), now); !errors.Is(err, cookies.ErrExpired) {
		t.Errorf("cookie expiring now: %v, want ErrExpired", err)
	}
	if v, err := c.Open("n", c.Seal("n", "x", time.Time{}), now.Add(100*365*24*time.Hour)); err != nil || v != "x" {
		t.Errorf("no expiry: %q %v", v, err)
	}
	if c.Seal("n", "x", time.Time{}) == c.Seal("n", "x", time.Time{}) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
}

func TestBadKeysFailAtStart(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Keys: [][]byte{[]byte("password")}}))
	app.GET("/", func(c *Ctx) error { return nil })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with an 8-byte key")
	}
	if !strings.Contains(err.Error(), cookies.ID) || !strings.Contains(err.Error(), "Options.Keys: cookies: key 0 is 8 bytes") {
		t.Fatalf("message does not name the extension and the key: %v", err)
	}
}

func TestSealedWithoutKeys(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{}))
	var putErr error
	var read bool
	app.GET("/", func(c *Ctx) error {
		putErr = c.PutSigned("s", "v")
		_, read = c.SignedCookie("s")
		return c.Text(200, "ok")
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "s=anything")
	app.ServeHTTP(rec, req)
	if !errors.Is(putErr, cookies.ErrNoKeys) || read || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("without keys: put %v, read %v, Set-Cookie %q", putErr, read, rec.Header().Get("Set-Cookie"))
	}
}

func TestSealedTooLong(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Keys: [][]byte{keyA}}))
	var err error
	app.GET("/", func(c *Ctx) error { err = c.PutEncrypted("s", strings.Repeat("x", 4000)); return nil })
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if err == nil || !strings.Contains(err.Error(), "more than the 4096") || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("4000-byte value: %v, Set-Cookie %d bytes", err, len(rec.Header().Get("Set-Cookie")))
	}
}
