package idempotency_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/idempotency"
)

type orderIn struct {
	C    *graft.Ctx `inject:""`
	Body struct {
		Item string `json:"item"`
	}
}

type orderOut struct {
	Status int    `default:"201"`
	Order  string `header:"X-Order"`
	Body   struct {
		ID   int64  `json:"id"`
		Item string `json:"item"`
	}
}

// shop is an app whose POST /orders handler counts its runs and behaves
// as the item says: "fail" answers 500, "missing" 404, "slow" 429,
// "panic" panics, "block" waits on the release channel, "stream" flushes.
type shop struct {
	runs    atomic.Int64
	entered chan string
	release chan struct{}
	srv     *graftest.Server
	store   *idempotency.MemoryStore
}

func newShop(t *testing.T, cfg idempotency.Config, opts ...func(app *graft.App[graft.Ctx])) *shop {
	t.Helper()
	s := &shop{entered: make(chan string, 64), release: make(chan struct{})}
	if cfg.Store == nil {
		st, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s.store, cfg.Store = st, st
	}
	app := graft.New(graft.Config{Logger: quietLogger()})
	for _, o := range opts {
		o(app)
	}
	app.UsePlugins(idempotency.New(cfg))
	h := func(ctx context.Context, in *orderIn) (*orderOut, error) {
		n := s.runs.Add(1)
		switch in.Body.Item {
		case "fail":
			return nil, graft.NewError(http.StatusInternalServerError, "the warehouse is down")
		case "missing":
			return nil, graft.NewError(http.StatusNotFound, "no such item")
		case "slow":
			return nil, graft.NewError(http.StatusTooManyRequests, "slow down")
		case "panic":
			panic("the handler broke")
		case "block":
			s.entered <- in.Body.Item
			select {
			case <-s.release:
			case <-time.After(graftest.Timeout):
				return nil, graft.NewError(http.StatusInternalServerError, "the test never released the handler")
			}
		case "stream":
			c := in.C
			c.SetHeader("Content-Type", "text/plain")
			c.Status(http.StatusOK)
			io.WriteString(c.Response(), "part 1\n")
			c.Response().(http.Flusher).Flush()
			io.WriteString(c.Response(), "part 2\n")
			return nil, nil
		}
		out := &orderOut{Order: fmt.Sprint("order-", n)}
		out.Body.ID, out.Body.Item = n, in.Body.Item
		return out, nil
	}
	graft.Post(app, "/orders", h)
	graft.Post(app, "/returns", h)
	graft.Patch(app, "/orders/{id}", func(ctx context.Context, in *struct {
		ID   string `path:"id"`
		Body struct {
			Item string `json:"item"`
		}
	}) (*orderOut, error) {
		n := s.runs.Add(1)
		out := &orderOut{Status: 200}
		out.Body.ID, out.Body.Item = n, in.Body.Item+"@"+in.ID
		return out, nil
	})
	graft.Get(app, "/orders", func(context.Context, *struct{}) (*orderOut, error) {
		s.runs.Add(1)
		return &orderOut{Status: 200}, nil
	})
	s.srv = graftest.Start(t, app)
	return s
}

// recv receives from ch, failing the test naming what it waited for when
// nothing arrives within graftest.Timeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(graftest.Timeout):
		t.Fatalf("waited %v for %s", graftest.Timeout, what)
	}
	var zero T
	return zero
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (s *shop) post(t *testing.T, path, body string, header ...string) *graftest.Response {
	t.Helper()
	return s.srv.For(t).Post(path, "application/json", body, header...)
}

const key1 = `"8e03978e-40d5-43e8-bc93-6894a57f9324"`

func TestReplay(t *testing.T) {
	s := newShop(t, idempotency.Config{})
	first := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1).WantStatus(201)
	if first.Header.Get(idempotency.ReplayedHeader) != "" {
		t.Fatalf("first answer marked as a replay")
	}
	for i := range 3 {
		again := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1).WantStatus(201)
		if !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay %d: body %q, want the first %q", i, again.Body, first.Body)
		}
		graftest.Equal(t, again.Header.Get(idempotency.ReplayedHeader), "true")
		graftest.Equal(t, again.Header.Get("X-Order"), first.Header.Get("X-Order"))
		graftest.Equal(t, again.Header.Get("Content-Type"), first.Header.Get("Content-Type"))
		graftest.Equal(t, again.Header.Get("Content-Length"), first.Header.Get("Content-Length"))
	}
	graftest.Equal(t, s.runs.Load(), int64(1))

	// The bare form of the same key is the same key.
	bare := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", strings.Trim(key1, `"`)).WantStatus(201)
	graftest.Equal(t, bare.Header.Get(idempotency.ReplayedHeader), "true")
	// Another key is another operation.
	other := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", `"k2"`).WantStatus(201)
	graftest.Equal(t, other.Header.Get(idempotency.ReplayedHeader), "")
	graftest.Equal(t, s.runs.Load(), int64(2))
	// PATCH takes keys by default too.
	p1 := s.srv.For(t).Request("PATCH", "/orders/7", strings.NewReader(`{"item":"pen"}`), "Content-Type", "application/json", "Idempotency-Key", `"p"`).WantStatus(200)
	p2 := s.srv.For(t).Request("PATCH", "/orders/7", strings.NewReader(`{"item":"pen"}`), "Content-Type", "application/json", "Idempotency-Key", `"p"`).WantStatus(200)
	graftest.Equal(t, string(p2.Body), string(p1.Body))
	graftest.Equal(t, s.runs.Load(), int64(3))
}

func TestWithoutKey(t *testing.T) {
	s := newShop(t, idempotency.Config{})
	s.post(t, "/orders", `{"item":"book"}`).WantStatus(201)
	s.post(t, "/orders", `{"item":"book"}`).WantStatus(201)
	graftest.Equal(t, s.runs.Load(), int64(2))

	r := newShop(t, idempotency.Config{Required: true})
	res := r.post(t, "/orders", `{"item":"book"}`).WantStatus(400)
	p := res.Problem()
	graftest.Equal(t, p.Type, idempotency.DocsURL)
	graftest.Equal(t, p.Title, "Idempotency-Key is missing")
	if !strings.Contains(p.Detail, "Idempotency-Key") {
		t.Fatalf("detail %q does not name the header", p.Detail)
	}
	graftest.Equal(t, r.runs.Load(), int64(0))
	// GET is not concerned: no key needed.
	r.srv.For(t).Get("/orders").WantStatus(200)
}

func TestMalformedKey(t *testing.T) {
	s := newShop(t, idempotency.Config{MaxKeyLength: 16})
	for _, v := range []string{
		`""`, `"abc`, `"a";p=1`, `"a", "b"`, `a b`, `a,b`, `a;b`, `"a\x"`, `"` + strings.Repeat("k", 17) + `"`,
		strings.Repeat("k", 17), `a"b`, `a\b`,
	} {
		res := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", v).WantStatus(400)
		p := res.Problem()
		graftest.Equal(t, p.Title, "Idempotency-Key is malformed")
		graftest.Equal(t, p.Type, idempotency.DocsURL)
	}
	res := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", "a", "Idempotency-Key", "b").WantStatus(400)
	if !strings.Contains(res.Problem().Detail, "2 Idempotency-Key headers") {
		t.Fatalf("detail %q", res.Problem().Detail)
	}
	graftest.Equal(t, s.runs.Load(), int64(0))
	s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", `"`+strings.Repeat("k", 16)+`"`).WantStatus(201)
}

func TestReusedForAnotherPayload(t *testing.T) {
	s := newShop(t, idempotency.Config{FingerprintHeaders: []string{"X-Currency"}})
	s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1, "X-Currency", "EUR").WantStatus(201)
	for _, tc := range []struct {
		name, path, body string
		header           []string
	}{
		{"body", "/orders", `{"item":"lamp"}`, nil},
		{"query", "/orders?gift=1", `{"item":"book"}`, nil},
		{"header", "/orders", `{"item":"book"}`, []string{"X-Currency", "USD"}},
	} {
		h := append([]string{"Idempotency-Key", key1}, tc.header...)
		if tc.header == nil {
			h = append(h, "X-Currency", "EUR")
		}
		res := s.post(t, tc.path, tc.body, h...).WantStatus(422)
		p := res.Problem()
		graftest.Equal(t, p.Title, "Idempotency-Key is already used")
		graftest.Equal(t, p.Type, idempotency.DocsURL)
	}
	graftest.Equal(t, s.runs.Load(), int64(1))
	// A header outside FingerprintHeaders does not matter.
	res := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1, "X-Currency", "EUR", "X-Other", "1").WantStatus(201)
	graftest.Equal(t, res.Header.Get(idempotency.ReplayedHeader), "true")
}

// Concurrent requests with one key: the handler runs once; the others
// are answered 409 while it runs, and the stored answer after.
func TestConcurrentInFlight(t *testing.T) {
	s := newShop(t, idempotency.Config{})
	var wg sync.WaitGroup
	const n = 12
	codes := make(chan int, n)
	bodies := make(chan []byte, n)
	send := func() {
		defer wg.Done()
		req, _ := http.NewRequest("POST", s.srv.URL+"/orders", strings.NewReader(`{"item":"block"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key1)
		res, err := s.srv.Client.Do(req)
		if err != nil {
			codes <- -1
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		codes <- res.StatusCode
		bodies <- b
	}
	wg.Add(1)
	go send()
	select {
	case <-s.entered:
	case <-time.After(graftest.Timeout):
		t.Fatal("waited for the first keyed request to reach the handler")
	}
	wg.Add(n - 1)
	for range n - 1 {
		go send()
	}
	// The n-1 others are all answered 409 while the first blocks.
	conflicts := 0
	for conflicts < n-1 {
		select {
		case code := <-codes:
			<-bodies
			if code != 409 {
				t.Fatalf("a concurrent request got %d, want 409", code)
			}
			conflicts++
		case <-time.After(graftest.Timeout):
			t.Fatalf("waited for %d concurrent requests to be answered 409; %d were", n-1, conflicts)
		}
	}
	s.release <- struct{}{}
	graftest.Equal(t, recv(t, codes, "the first keyed request's answer"), 201)
	firstBody := recv(t, bodies, "the first keyed request's body")
	wg.Wait() // every request has been answered
	graftest.Equal(t, s.runs.Load(), int64(1))
	res := s.post(t, "/orders", `{"item":"block"}`, "Idempotency-Key", key1).WantStatus(201)
	graftest.Equal(t, string(res.Body), string(firstBody))
	graftest.Equal(t, res.Header.Get(idempotency.ReplayedHeader), "true")
	graftest.Equal(t, s.runs.Load(), int64(1))
}

// The 409 problem's shape, and a payload that differs while in flight is
// a 422.
func TestInFlightProblem(t *testing.T) {
	s := newShop(t, idempotency.Config{})
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.srv.URL+"/orders", strings.NewReader(`{"item":"block"}`))
		req.Header.Set("Idempotency-Key", key1)
		res, err := s.srv.Client.Do(req)
		if err != nil {
			done <- -1
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	select {
	case <-s.entered:
	case <-time.After(graftest.Timeout):
		t.Fatal("waited for the first request to reach the handler")
	}
	p := s.post(t, "/orders", `{"item":"block"}`, "Idempotency-Key", key1).WantStatus(409).Problem()
	graftest.Equal(t, p.Title, "A request is outstanding for this Idempotency-Key")
	graftest.Equal(t, p.Type, idempotency.DocsURL)
	s.post(t, "/orders", `{"item":"other"}`, "Idempotency-Key", key1).WantStatus(422)
	close(s.release)
	graftest.Equal(t, recv(t, done, "the held request's answer"), 201)
}

// 5xx answers and panics release the key: the retry runs the handler.
// Stored client errors are replayed; 429 is not stored.
func TestWhichAnswersAreStored(t *testing.T) {
	s := newShop(t, idempotency.Config{})
	for _, tc := range []struct {
		item   string
		status int
		stored bool
	}{
		{"fail", 500, false},
		{"panic", 500, false},
		{"slow", 429, false},
		{"stream", 200, false},
		{"missing", 404, true},
	} {
		t.Run(tc.item, func(t *testing.T) {
			before := s.runs.Load()
			key := `"key-` + tc.item + `"`
			body := `{"item":"` + tc.item + `"}`
			a := s.post(t, "/orders", body, "Idempotency-Key", key).WantStatus(tc.status)
			b := s.post(t, "/orders", body, "Idempotency-Key", key).WantStatus(tc.status)
			runs := s.runs.Load() - before
			if tc.stored {
				graftest.Equal(t, runs, int64(1))
				graftest.Equal(t, b.Header.Get(idempotency.ReplayedHeader), "true")
				graftest.Equal(t, string(b.Body), string(a.Body))
			} else {
				graftest.Equal(t, runs, int64(2))
				graftest.Equal(t, b.Header.Get(idempotency.ReplayedHeader), "")
			}
		})
	}
	if tc := s.post(t, "/orders", `{"item":"stream"}`, "Idempotency-Key", `"key-stream"`); tc.Text() != "part 1\npart 2\n" {
		t.Fatalf("stream body %q", tc.Text())
	}
	// Every released key left the store; the stored 404 remains.
	graftest.Equal(t, s.store.Len(), 1)
}

// Keys are scoped by endpoint and by Identity.
func TestScope(t *testing.T) {
	s := newShop(t, idempotency.Config{Identity: func(c *graft.Ctx) string { return c.Header("X-User") }})
	a := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1, "X-User", "ann").WantStatus(201)
	b := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1, "X-User", "bob").WantStatus(201)
	if bytes.Equal(a.Body, b.Body) {
		t.Fatalf("bob got ann's answer %s", a.Body)
	}
	graftest.Equal(t, b.Header.Get(idempotency.ReplayedHeader), "")
	// Another route with the same key is another operation (no 422).
	s.post(t, "/returns", `{"item":"book"}`, "Idempotency-Key", key1, "X-User", "ann").WantStatus(201)
	graftest.Equal(t, s.runs.Load(), int64(3))
	again := s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", key1, "X-User", "ann").WantStatus(201)
	graftest.Equal(t, string(again.Body), string(a.Body))
	graftest.Equal(t, s.runs.Load(), int64(3))
}

// The body is read for the fingerprint and given to the handler whole;
// over the app's body limit or MaxBody the answer is the app's 413.
func TestBody(t *testing.T) {
	s := newShop(t, idempotency.Config{}, func(app *graft.App[graft.Ctx]) {})
	big := `{"item":"` + strings.Repeat("x", 100_000) + `"}`
	res := s.post(t, "/orders", big, "Idempotency-Key", key1).WantStatus(201)
	var out struct{ Item string }
	res.JSON(&out)
	graftest.Equal(t, len(out.Item), 100_000)
	// Chunked (no Content-Length) too.
	req, _ := http.NewRequest("POST", s.srv.URL+"/orders", io.MultiReader(strings.NewReader(`{"item":`), strings.NewReader(`"chunked"}`)))
	req.Header.Set("Idempotency-Key", `"chunked"`)
	req.ContentLength = -1
	res = s.srv.For(t).Do(req).WantStatus(201)
	res.JSON(&out)
	graftest.Equal(t, out.Item, "chunked")

	app := graft.New(graft.Config{BodyLimit: 64, Logger: quietLogger()})
	runs := 0
	app.UsePlugins(idempotency.New(idempotency.Config{}))
	graft.Post(app, "/small", func(_ context.Context, in *orderIn) (*orderOut, error) {
		runs++
		return &orderOut{}, nil
	})
	srv := graftest.Start(t, app)
	tinyApp := graft.New(graft.Config{BodyLimit: 64, Logger: quietLogger()})
	graft.Post(tinyApp, "/tiny", func(_ context.Context, in *orderIn) (*orderOut, error) {
		runs++
		return &orderOut{}, nil
	}, graft.Plugins(idempotency.New(idempotency.Config{MaxBody: 16})))
	tiny := graftest.Start(t, tinyApp)
	long := `{"item":"` + strings.Repeat("y", 80) + `"}`
	withKey := srv.Post("/small", "application/json", long, "Idempotency-Key", `"a"`).WantStatus(413)
	without := srv.Post("/small", "application/json", long).WantStatus(413)
	graftest.Equal(t, withKey.Problem().Detail, without.Problem().Detail)
	req, _ = http.NewRequest("POST", srv.URL+"/small", strings.NewReader(long))
	req.ContentLength = -1
	req.Header.Set("Idempotency-Key", `"b"`)
	srv.Do(req).WantStatus(413)
	tiny.Post("/tiny", "application/json", `{"item":"0123456789"}`, "Idempotency-Key", `"c"`).WantStatus(413)
	tiny.Post("/tiny", "application/json", `{}`, "Idempotency-Key", `"c"`).WantStatus(201)
	graftest.Equal(t, runs, 1)
}

// Stored headers: the endpoint's, without Set-Cookie, Date, hop-by-hop
// headers or those outer layers set before it ran.
func TestStoredHeaders(t *testing.T) {
	var n atomic.Int64
	app := graft.New(graft.Config{Logger: quietLogger()})
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			c.SetHeader("X-Request-Id", fmt.Sprint("req-", n.Add(1)))
			return next(c)
		}
	})
	app.UsePlugins(idempotency.New(idempotency.Config{}))
	graft.Post(app, "/login", func(_ context.Context, in *struct {
		C *graft.Ctx `inject:""`
	}) (*orderOut, error) {
		c := in.C
		c.SetCookie(&http.Cookie{Name: "session", Value: "s3cret"})
		c.SetHeader("X-Custom", "kept")
		return &orderOut{Order: "o"}, nil
	})
	srv := graftest.Start(t, app)
	a := srv.Post("/login", "application/json", `{}`, "Idempotency-Key", key1).WantStatus(201)
	b := srv.Post("/login", "application/json", `{}`, "Idempotency-Key", key1).WantStatus(201)
	graftest.Equal(t, b.Header.Get(idempotency.ReplayedHeader), "true")
	graftest.Equal(t, a.Header.Get("X-Request-Id"), "req-1")
	graftest.Equal(t, b.Header.Get("X-Request-Id"), "req-2")
	graftest.Equal(t, b.Header.Get("X-Custom"), "kept")
	graftest.Equal(t, b.Header.Get("X-Order"), "o")
	if a.Header.Get("Set-Cookie") == "" || b.Header.Get("Set-Cookie") != "" {
		t.Fatalf("Set-Cookie first %q, replayed %q: want it on the first answer only", a.Header.Get("Set-Cookie"), b.Header.Get("Set-Cookie"))
	}
	if b.Header.Get("Date") == "" {
		t.Fatal("the replay has no Date")
	}
}

// The signature shows the header and the problems; other methods are
// left as they were.
func TestSignature(t *testing.T) {
	app := graft.New(graft.Config{Logger: quietLogger()})
	app.UsePlugins(idempotency.New(idempotency.Config{Required: true}))
	h := func(context.Context, *orderIn) (*orderOut, error) { return &orderOut{}, nil }
	post := graft.Post(app, "/orders", h)
	put := graft.Put(app, "/orders", h)
	graftest.Start(t, app)
	sig := post.Signature()
	i := slices.IndexFunc(sig.HeaderParams, func(p graft.Param) bool { return p.Name == "Idempotency-Key" })
	if i < 0 || !sig.HeaderParams[i].Required || *sig.HeaderParams[i].Constraints.MaxLength != 255 {
		t.Fatalf("POST header params %+v: want a required Idempotency-Key of at most 255", sig.HeaderParams)
	}
	for _, st := range []int{400, 409, 422, 503} {
		j := slices.IndexFunc(sig.Returns, func(r graft.Return) bool { return r.Status == st })
		if j < 0 || sig.Returns[j].MediaType != "application/problem+json" {
			t.Fatalf("POST returns %+v: no problem %d", sig.Returns, st)
		}
		if st == 422 && !strings.Contains(sig.Returns[j].Description, "; or the Idempotency-Key was used for another payload") {
			t.Fatalf("422 description %q: want the binder's and the plugin's", sig.Returns[j].Description)
		}
	}
	if slices.ContainsFunc(put.Signature().HeaderParams, func(p graft.Param) bool { return p.Name == "Idempotency-Key" }) ||
		slices.ContainsFunc(put.Signature().Returns, func(r graft.Return) bool { return r.Status == 409 }) {
		t.Fatal("PUT got the plugin's param or returns")
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		cfg  idempotency.Config
		want string
	}{
		{idempotency.Config{Methods: []string{"post"}}, `Config.Methods has "post"`},
		{idempotency.Config{TTL: -1}, "Config.TTL is -1ns"},
		{idempotency.Config{LockTTL: time.Microsecond}, "must be at least 1ms"},
		{idempotency.Config{MaxKeyLength: -1}, "Config.MaxKeyLength is -1"},
		{idempotency.Config{MaxBody: -1}, "Config.MaxBody is -1"},
		{idempotency.Config{MaxAnswer: -1}, "Config.MaxAnswer is -1"},
		{idempotency.Config{FingerprintHeaders: []string{"X A"}}, `Config.FingerprintHeaders[0] is "X A"`},
	} {
		app := graft.New(graft.Config{Logger: quietLogger()})
		app.UsePlugins(idempotency.New(tc.cfg))
		graft.Post(app, "/orders", func(context.Context, *orderIn) (*orderOut, error) { return &orderOut{}, nil })
		msg := graftest.StartError(t, app)
		if !strings.Contains(msg, "POST /orders") || !strings.Contains(msg, "idempotency") || !strings.Contains(msg, tc.want) {
			t.Errorf("start-up error %q: want the endpoint, the plugin and %q", msg, tc.want)
		}
	}
}

// An answer over MaxAnswer is sent whole and not stored.
func TestMaxAnswer(t *testing.T) {
	s := newShop(t, idempotency.Config{MaxAnswer: 40})
	long := strings.Repeat("z", 50)
	a := s.post(t, "/orders", `{"item":"`+long+`"}`, "Idempotency-Key", key1).WantStatus(201)
	if !strings.Contains(a.Text(), long) {
		t.Fatalf("body %q", a.Body)
	}
	b := s.post(t, "/orders", `{"item":"`+long+`"}`, "Idempotency-Key", key1).WantStatus(201)
	graftest.Equal(t, b.Header.Get(idempotency.ReplayedHeader), "")
	graftest.Equal(t, s.runs.Load(), int64(2))
	graftest.Equal(t, s.store.Len(), 0)
}

// A request that outlives LockTTL loses its key: a retry runs, and the
// late first answer is not stored over it.
func TestLockTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	st, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := newShop(t, idempotency.Config{Store: st, LockTTL: time.Minute})
	send := func(out chan<- int) {
		req, _ := http.NewRequest("POST", s.srv.URL+"/orders", strings.NewReader(`{"item":"block"}`))
		req.Header.Set("Idempotency-Key", key1)
		res, err := s.srv.Client.Do(req)
		if err != nil {
			out <- -1
			return
		}
		res.Body.Close()
		out <- res.StatusCode
	}
	entered := func(what string) {
		t.Helper()
		select {
		case <-s.entered:
		case <-time.After(graftest.Timeout):
			t.Fatalf("waited for %s to reach the handler", what)
		}
	}
	first, retry := make(chan int, 1), make(chan int, 1)
	go send(first)
	entered("the first request")
	s.post(t, "/orders", `{"item":"block"}`, "Idempotency-Key", key1).WantStatus(409)
	mu.Lock()
	now = now.Add(time.Minute) // the first request's lock expires
	mu.Unlock()
	go send(retry)
	entered("the retry after the lock expired")
	s.release <- struct{}{}
	s.release <- struct{}{}
	graftest.Equal(t, recv(t, first, "the first request's answer"), 201)
	graftest.Equal(t, recv(t, retry, "the retry's answer"), 201)
	graftest.Equal(t, s.runs.Load(), int64(2))
	// The retry held the lock and stored its answer; the first's was
	// refused (ErrLockLost, logged). The next retry is a replay.
	res := s.post(t, "/orders", `{"item":"block"}`, "Idempotency-Key", key1).WantStatus(201)
	graftest.Equal(t, res.Header.Get(idempotency.ReplayedHeader), "true")
	graftest.Equal(t, res.Header.Get("X-Order"), "order-2")
	graftest.Equal(t, s.runs.Load(), int64(2))
}

// A memory store full of requests in flight refuses a new key with 503
// rather than breaking a lock; the handler does not run.
func TestStoreFull(t *testing.T) {
	st, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := newShop(t, idempotency.Config{Store: st})
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.srv.URL+"/orders", strings.NewReader(`{"item":"block"}`))
		req.Header.Set("Idempotency-Key", key1)
		res, err := s.srv.Client.Do(req)
		if err != nil {
			done <- -1
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	select {
	case <-s.entered:
	case <-time.After(graftest.Timeout):
		t.Fatal("waited for the first request to reach the handler")
	}
	s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", `"other"`).WantStatus(503).Problem()
	close(s.release)
	graftest.Equal(t, recv(t, done, "the held request's answer"), 201)
	graftest.Equal(t, s.runs.Load(), int64(1))
	// Now the stored answer makes room for a new key.
	s.post(t, "/orders", `{"item":"book"}`, "Idempotency-Key", `"other"`).WantStatus(201)
}

// A handler that aborts the connection (http.ErrAbortHandler, re-panicked
// through graft) releases its key.
func TestAbortReleases(t *testing.T) {
	app := graft.New(graft.Config{Logger: quietLogger()})
	st, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	app.UsePlugins(idempotency.New(idempotency.Config{Store: st}))
	var runs atomic.Int64
	graft.Post(app, "/abort", func(context.Context, *orderIn) (*orderOut, error) {
		if runs.Add(1) == 1 {
			panic(http.ErrAbortHandler)
		}
		return &orderOut{}, nil
	})
	srv := graftest.Start(t, app)
	req, _ := http.NewRequest("POST", srv.URL+"/abort", strings.NewReader(`{}`))
	req.Header.Set("Idempotency-Key", key1)
	if res, err := srv.Client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the aborted request got an answer %d", res.StatusCode)
	}
	graftest.Equal(t, st.Len(), 0)
	srv.Post("/abort", "application/json", `{}`, "Idempotency-Key", key1).WantStatus(201)
	graftest.Equal(t, runs.Load(), int64(2))
}
