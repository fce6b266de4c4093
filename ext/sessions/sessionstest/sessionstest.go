// Package sessionstest checks that a sessions.Store keeps the promises the
// sessions extension relies on: the store-level semantics (load, per-key
// merge, delete, expiry) and the whole flow through a graft app on a real
// listener (cookie, regeneration on login, logout, concurrent requests of
// one session changing different keys without losing any). Store
// implementations run it from their tests:
//
//	func TestStore(t *testing.T) {
//		sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t) })
//	}
package sessionstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
)

// Run runs every check against fresh stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Run("StoreSemantics", func(t *testing.T) { storeSemantics(t, newStore(t)) })
	t.Run("Expiry", func(t *testing.T) { expiry(t, newStore(t)) })
	t.Run("Flow", func(t *testing.T) { flow(t, newStore(t)) })
	t.Run("ConcurrentKeys", func(t *testing.T) { concurrentKeys(t, newStore(t)) })
}

func storeSemantics(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	if _, ok, err := st.Load(ctx, sessions.NewID()); ok || err != nil {
		t.Fatalf("Load of an unknown id: ok %v err %v", ok, err)
	}
	id, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"a": "1", "b": "2"}}, time.Hour)
	if err != nil || len(id) < 22 {
		t.Fatalf("Save of a new session: id %q err %v", id, err)
	}
	other, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"a": "x"}}, time.Hour)
	if err != nil || other == id {
		t.Fatalf("a second new session got id %q (first %q), err %v", other, id, err)
	}
	server := isServerStore(st)
	id2, err := st.Save(ctx, id, sessions.Changes{Set: map[string]string{"c": "3"}, Del: []string{"b"}}, time.Hour)
	if err != nil || (server && id2 != id) {
		t.Fatalf("Save of an existing session: id %q (want %q) err %v", id2, id, err)
	}
	id = id2 // the cookie store's id is its sealed values
	v, ok, err := st.Load(ctx, id)
	if err != nil || !ok || fmt.Sprint(v) != "map[a:1 c:3]" {
		t.Fatalf("after the merge: %v ok %v err %v, want map[a:1 c:3]", v, ok, err)
	}
	if v, _, _ := st.Load(ctx, other); fmt.Sprint(v) != "map[a:x]" {
		t.Fatalf("the other session: %v", v)
	}
	// values come back as they went in
	odd := "ünïcode \x00 ; , \"quoted\" = " + strings.Repeat("z", 1000)
	if id, err = st.Save(ctx, id, sessions.Changes{Set: map[string]string{"odd key": odd, "empty": ""}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := st.Load(ctx, id); v["odd key"] != odd || v["empty"] != "" || len(v) != 4 {
		t.Fatalf("values did not round-trip: %d keys, odd %v", len(v), v["odd key"] == odd)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if !server {
		return // a cookie store cannot revoke a value (documented)
	}
	if _, ok, err := st.Load(ctx, id); ok || err != nil {
		t.Fatalf("Load after Delete: ok %v err %v", ok, err)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatalf("Delete of an unknown id: %v", err)
	}
	if v, ok, _ := st.Load(ctx, other); !ok || v["a"] != "x" {
		t.Fatal("Delete of one session removed another")
	}
}

// expiry saves with a short TTL and waits (with a deadline) for the store
// to stop returning the session; a save refreshes the TTL.
func expiry(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	short, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"k": "v"}}, 1200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	long, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"k": "v"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Load(ctx, short); !ok {
		t.Fatal("a session with a 1.2s TTL is gone at once")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ok, err := st.Load(ctx, short)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a session with a 1.2s TTL still loads after 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, ok, _ := st.Load(ctx, long); !ok {
		t.Fatal("the session with a 1h TTL expired too")
	}
}

// app serves a session API on a real listener.
func app(t *testing.T, st sessions.Store) (*httptest.Server, *sessions.Sessions) {
	t.Helper()
	ext := sessions.Extension(sessions.Options{Store: st, MaxAge: time.Hour})
	a := graft.New(graft.Config{})
	a.Register(ext)
	a.GET("/set", func(c *graft.Ctx) error {
		s := sessions.Get(c, ext)
		for k, v := range c.QueryValues() {
			s.Set(k, v[0])
		}
		return c.Text(200, "ok")
	})
	a.GET("/get", func(c *graft.Ctx) error {
		s := sessions.Get(c, ext)
		if err := s.Load(); err != nil {
			return graft.NewError(503, "session store unavailable")
		}
		v := s.Values()
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k+"="+v[k])
		}
		sort.Strings(keys)
		return c.Text(200, strings.Join(keys, "&"))
	})
	a.GET("/id", func(c *graft.Ctx) error { return c.Text(200, sessions.Get(c, ext).ID()) })
	a.GET("/login", func(c *graft.Ctx) error {
		s := sessions.Get(c, ext)
		s.Regenerate()
		s.Set("user", c.Query("user"))
		return c.Text(200, "ok")
	})
	a.GET("/logout", func(c *graft.Ctx) error {
		if err := sessions.Get(c, ext).Destroy(); err != nil {
			return err
		}
		return c.NoContent()
	})
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.Stop(context.Background()) })
	return srv, ext
}

type client struct {
	t   *testing.T
	srv *httptest.Server
	hc  *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t, srv, &http.Client{Jar: jar, Transport: srv.Client().Transport, Timeout: 10 * time.Second}}
}

func (c *client) get(path string) (string, *http.Response) {
	c.t.Helper()
	res, err := c.hc.Get(c.srv.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), res
}

func (c *client) cookie() string {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessions.DefaultCookieName {
			return ck.Value
		}
	}
	return ""
}

func flow(t *testing.T, st sessions.Store) {
	srv, _ := app(t, st)
	ctx := context.Background()
	c := newClient(t, srv)
	if _, res := c.get("/get"); len(res.Header["Set-Cookie"]) != 0 {
		t.Fatalf("reading an absent session set a cookie: %v", res.Header["Set-Cookie"])
	}
	_, res := c.get("/set?cart=3")
	ck := res.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "Path=/") || !strings.Contains(ck, "SameSite=Lax") || !strings.Contains(ck, "Max-Age=3600") {
		t.Fatalf("session cookie %q lacks HttpOnly, Path=/, SameSite=Lax or Max-Age=3600", ck)
	}
	if body, _ := c.get("/get"); body != "cart=3" {
		t.Fatalf("read back %q", body)
	}
	if _, res := c.get("/set?cart=4"); res.Header.Get("Set-Cookie") != "" && isServerStore(st) {
		t.Errorf("a change to a stored session re-sent the cookie: %q", res.Header.Get("Set-Cookie"))
	}

	// another client sees nothing of it (pooled contexts are cleared)
	if body, _ := newClient(t, srv).get("/get"); body != "" {
		t.Fatalf("a fresh client reads %q", body)
	}

	// login regenerates the id and keeps the values; the old id is dead
	before := c.cookie()
	c.get("/login?user=ada")
	after := c.cookie()
	if after == "" || after == before {
		t.Fatalf("login kept the session id %q", before)
	}
	if body, _ := c.get("/get"); body != "cart=4&user=ada" {
		t.Fatalf("after login: %q", body)
	}
	if isServerStore(st) {
		if _, ok, _ := st.Load(ctx, before); ok {
			t.Fatal("the id from before the login still loads")
		}
	}

	// a planted id is not adopted (session fixation)
	planted := newClient(t, srv)
	u, _ := url.Parse(srv.URL)
	planted.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessions.DefaultCookieName, Value: "attacker-chosen-id", Path: "/"}})
	planted.get("/set?x=1")
	if got := planted.cookie(); got == "attacker-chosen-id" || got == "" {
		t.Fatalf("a planted session id was kept: %q", got)
	}

	// logout forgets the session and drops the cookie
	cur := c.cookie()
	_, res = c.get("/logout")
	if res.StatusCode != 204 || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d Set-Cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	if c.cookie() != "" {
		t.Fatal("the cookie survived logout")
	}
	if isServerStore(st) {
		if _, ok, _ := st.Load(ctx, cur); ok {
			t.Fatal("the store still holds the session after logout")
		}
	}
	if body, _ := c.get("/get"); body != "" {
		t.Fatalf("after logout: %q", body)
	}
}

// isServerStore reports whether st keeps sessions on the server (its ids
// are not the values themselves).
func isServerStore(st sessions.Store) bool {
	_, cookie := st.(*sessions.CookieStore)
	return !cookie
}

// concurrentKeys fires concurrent requests of one session, each setting a
// key of its own, and checks that none is lost.
func concurrentKeys(t *testing.T, st sessions.Store) {
	if !isServerStore(st) {
		t.Skip("the cookie store cannot merge concurrent answers (documented)")
	}
	srv, _ := app(t, st)
	c := newClient(t, srv)
	c.get("/set?base=0")
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := c.hc.Get(fmt.Sprintf("%s/set?k%02d=%d", srv.URL, i, i))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				errs <- fmt.Errorf("request %d: %d", i, res.StatusCode)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	body, _ := c.get("/get")
	keys := strings.Split(body, "&")
	if len(keys) != n+1 {
		t.Fatalf("%d of %d concurrently set keys survived: %s", len(keys)-1, n, body)
	}
	for i := range n {
		if !strings.Contains(body, fmt.Sprintf("k%02d=%d", i, i)) {
			t.Errorf("key k%02d lost", i)
		}
	}
}
