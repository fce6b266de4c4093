package sessions_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/ext/sessions/sessionstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var key = bytes.Repeat([]byte{7}, 32)

func TestMemoryStore(t *testing.T) {
	sessionstest.Run(t, func(*testing.T) sessions.Store { return sessions.NewMemoryStore() })
}

func TestSignedCookieStore(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		st, err := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{key}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestEncryptedCookieStore(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		st, err := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{key}, Encrypt: true})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestCookieStoreRefusals: a tampered session cookie, one sealed with
// another key, and a signed one shown to an encrypting store load nothing.
func TestCookieStoreRefusals(t *testing.T) {
	ctx := context.Background()
	signed, _ := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{key}})
	enc, _ := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{key}, Encrypt: true})
	other, _ := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{bytes.Repeat([]byte{8}, 32)}})
	v, _ := signed.Save(ctx, "", sessions.Changes{Set: map[string]string{"admin": "no"}}, time.Hour)
	forged, _ := other.Save(ctx, "", sessions.Changes{Set: map[string]string{"admin": "yes"}}, time.Hour)
	tampered := []byte(v)
	tampered[5] ^= 1
	for name, tc := range map[string]struct {
		st  sessions.Store
		raw string
	}{
		"tampered": {signed, string(tampered)}, "other key": {signed, forged}, "signed to the encrypting store": {enc, v},
	} {
		if vals, ok, err := tc.st.Load(ctx, tc.raw); ok || err != nil || vals != nil {
			t.Errorf("%s: %v %v %v", name, vals, ok, err)
		}
	}
	if _, err := sessions.NewCookieStore(sessions.CookieStoreOptions{Keys: [][]byte{[]byte("short")}}); err == nil || !strings.Contains(err.Error(), "key 0 is 5 bytes") {
		t.Errorf("short key: %v", err)
	}
}

type Ctx struct {
	graft.Ctx
	sessions.Access
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func do(t *testing.T, h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	h.ServeHTTP(rec, req)
	return rec
}

func cookieOf(rec *httptest.ResponseRecorder) string {
	return strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0]
}

// TestMixinExpiryAndLateChanges: c.Session() on the app's context; a
// session expires MaxAge after its last save (the store's clock moved);
// a change after the answer was written is saved when the cookie is
// already right, and logged as lost when a new cookie would be needed.
func TestMixinExpiryAndLateChanges(t *testing.T) {
	st := sessions.NewMemoryStore()
	now := time.Now()
	var mu sync.Mutex
	st.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	logs := &logBuf{}
	app := graft.NewWithContext[Ctx](graft.Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	app.Register(sessions.Extension(sessions.Options{Store: st, MaxAge: time.Minute, CookieName: "sid", Secure: true}))
	app.GET("/set", func(c *Ctx) error { c.Session().Set("n", c.Query("n")); return c.Text(200, "ok") })
	app.GET("/get", func(c *Ctx) error { v, _ := c.Session().Get("n"); return c.Text(200, v) })
	app.GET("/late", func(c *Ctx) error {
		if err := c.Text(200, "written"); err != nil {
			return err
		}
		c.Session().Set("late", "yes")
		return nil
	})
	app.GET("/late-get", func(c *Ctx) error { v, _ := c.Session().Get("late"); return c.Text(200, v) })

	rec := do(t, app, "/set?n=1", "")
	ck := cookieOf(rec)
	if !strings.HasPrefix(ck, "sid=") || !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Fatalf("cookie %q", rec.Header().Get("Set-Cookie"))
	}
	if got := do(t, app, "/get", ck).Body.String(); got != "1" {
		t.Fatalf("read %q", got)
	}
	do(t, app, "/late", ck)
	if got := do(t, app, "/late-get", ck).Body.String(); got != "yes" {
		t.Errorf("a late change to a stored session was not saved: %q", got)
	}
	if rec := do(t, app, "/late", ""); rec.Header().Get("Set-Cookie") != "" || !strings.Contains(logs.String(), "change the session before writing the answer") {
		t.Errorf("a late change to a new session: Set-Cookie %q, logs:\n%s", rec.Header().Get("Set-Cookie"), logs)
	}

	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	do(t, app, "/set?n=2", ck) // a save refreshes the expiry
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	if got := do(t, app, "/get", ck).Body.String(); got != "2" {
		t.Fatalf("118s after creation, 59s after the last save: %q", got)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if got := do(t, app, "/get", ck).Body.String(); got != "" {
		t.Fatalf("61s after the last save the session still reads %q", got)
	}
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"sessions: the session cookie names no live session") {
		t.Errorf("no debug record of the dead session:\n%s", logs)
	}
	if rec := do(t, app, "/set?n=3", ck); cookieOf(rec) == ck || cookieOf(rec) == "" {
		t.Errorf("an expired id was reused: %q", cookieOf(rec))
	}
}

// TestRolling: with Rolling a read-only request saves the session and
// re-sends the cookie, so MaxAge counts from the last request.
func TestRolling(t *testing.T) {
	st := sessions.NewMemoryStore()
	now := time.Now()
	st.Now = func() time.Time { return now }
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: st, MaxAge: time.Minute, Rolling: true}))
	app.GET("/set", func(c *Ctx) error { c.Session().Set("n", "1"); return c.Text(200, "ok") })
	app.GET("/get", func(c *Ctx) error { v, _ := c.Session().Get("n"); return c.Text(200, v) })
	app.GET("/none", func(c *Ctx) error { return c.Text(200, "no session use") })
	ck := cookieOf(do(t, app, "/set", ""))
	for range 3 {
		now = now.Add(50 * time.Second)
		rec := do(t, app, "/get", ck)
		if rec.Body.String() != "1" || cookieOf(rec) != ck || !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=60") {
			t.Fatalf("rolling read: %q, Set-Cookie %q", rec.Body, rec.Header().Get("Set-Cookie"))
		}
	}
	if rec := do(t, app, "/none", ck); rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("a request that does not touch the session rolled it: %q", rec.Header().Get("Set-Cookie"))
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		opts sessions.Options
		want string
	}{
		{sessions.Options{}, "Options.Store is nil"},
		{sessions.Options{Store: sessions.NewMemoryStore(), CookieName: "a b"}, `CookieName "a b" is not a valid cookie name`},
		{sessions.Options{Store: sessions.NewMemoryStore(), MaxAge: time.Millisecond}, "shorter than a second"},
	} {
		app := graft.New(graft.Config{})
		app.Register(sessions.Extension(tc.opts))
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("started with %+v", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), sessions.ID) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.GET("/", func(c *Ctx) error { return nil })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("the mixin started without the extension")
	}
	if !strings.Contains(err.Error(), sessions.ID) || !strings.Contains(err.Error(), "Access") {
		t.Errorf("mixin message: %v", err)
	}
}

// TestSaveWithoutChanges: an explicit Save of a session nobody changed
// writes nothing and sets no cookie.
func TestSaveWithoutChanges(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: sessions.NewMemoryStore()}))
	app.GET("/", func(c *Ctx) error {
		if err := c.Session().Save(); err != nil {
			return err
		}
		return c.Text(200, c.Session().ID())
	})
	rec := do(t, app, "/", "")
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || len(b) != 0 || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("an untouched session was saved: %d %q %q", rec.Code, b, rec.Header().Get("Set-Cookie"))
	}
}

type loginIn struct {
	Session *sessions.Session `plugin:""`
	User    string            `query:"user"`
}

type meIn struct {
	Session *sessions.Session `plugin:""`
}

type meOut struct {
	Body struct {
		User string `json:"user"`
	}
}

// TestTypedEndpoints: a typed endpoint gets the request's session in its
// `plugin:""` field of type *sessions.Session (the extension brings the
// plugin); endpoints without the field are left alone.
func TestTypedEndpoints(t *testing.T) {
	st := sessions.NewMemoryStore()
	app := graft.New(graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: st}))
	graft.Post(app, "/login", func(_ context.Context, in *loginIn) (*meOut, error) {
		in.Session.Regenerate()
		in.Session.Set("user", in.User)
		out := &meOut{}
		out.Body.User = in.User
		return out, nil
	})
	graft.Get(app, "/me", func(_ context.Context, in *meIn) (*meOut, error) {
		out := &meOut{}
		out.Body.User, _ = in.Session.Get("user")
		return out, nil
	})
	graft.Get(app, "/plain", func(_ context.Context, _ *struct{}) (*meOut, error) { return &meOut{}, nil })
	srv := httptest.NewServer(app)
	defer func() { srv.Close(); app.Stop(context.Background()) }()
	res, err := srv.Client().Post(srv.URL+"/login?user=ada", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ck := strings.SplitN(res.Header.Get("Set-Cookie"), ";", 2)[0]
	if res.StatusCode != 200 || !strings.HasPrefix(ck, "session=") || st.Len() != 1 {
		t.Fatalf("login: %d cookie %q, %d sessions stored", res.StatusCode, ck, st.Len())
	}
	for path, want := range map[string]string{"/me": `{"user":"ada"}`, "/plain": `{"user":""}`} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Cookie", ck)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.TrimSpace(string(b)) != want || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %s Set-Cookie %q, want %s", path, b, res.Header.Get("Set-Cookie"), want)
		}
	}
}
