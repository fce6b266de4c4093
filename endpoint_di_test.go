package graft

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

type dbConn struct{ name string }
type txn struct {
	db     *dbConn
	closed bool
}
type repo struct{ tx *txn }

// authHeader is a request struct: a provider that takes it makes its
// fields transitive params of every endpoint that needs the provider.
type authHeader struct {
	Token string `header:"Authorization" required:"true"`
}

type user struct{ Name string }

type cleanupLog struct {
	mu  sync.Mutex
	log []string
}

func (l *cleanupLog) add(s string) {
	l.mu.Lock()
	l.log = append(l.log, s)
	l.mu.Unlock()
}

func (l *cleanupLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.log
	l.log = nil
	return out
}

func newDIApp(t *testing.T, cl *cleanupLog) *App[Ctx] {
	app := New(Config{})
	g := app.Graph()
	// The lifespan hook creates the database and registers it in the graph.
	app.OnLifecycle(Hook{Name: "db", OnStart: func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("start hook without deadline")
		}
		di.Value(g, &dbConn{name: "main"})
		return nil
	}})
	di.Provide(g, di.Scoped, di.Func1C(func(db *dbConn) (*txn, func(), error) {
		tx := &txn{db: db}
		return tx, func() { tx.closed = true; cl.add("tx") }, nil
	}))
	di.Provide(g, di.Scoped, di.Func1(func(tx *txn) (*repo, error) { return &repo{tx: tx}, nil }))
	di.Provide(g, di.Scoped, di.Func2(func(h *authHeader, r *http.Request) (*user, error) {
		if h.Token != "secret" {
			return nil, NewError(http.StatusUnauthorized, "bad token")
		}
		return &user{Name: "ada@" + r.URL.Path}, nil
	}))
	return app
}

type diIn struct {
	ID   string  `path:"id"`
	Repo *repo   `inject:""`
	DB   *dbConn `inject:""`
	User *user   `inject:""`
}

type diOut struct {
	Body struct {
		ID, DB, User string
		Same         bool
	}
}

func TestEndpointDependencies(t *testing.T) {
	var cl cleanupLog
	app := newDIApp(t, &cl)
	var txSeen *txn
	ri := Get(app, "/items/{id}", func(_ context.Context, in *diIn) (*diOut, error) {
		if in.ID == "panic" {
			txSeen = in.Repo.tx
			panic("handler panics")
		}
		out := &diOut{}
		out.Body.ID, out.Body.DB, out.Body.User = in.ID, in.DB.name, in.User.Name
		out.Body.Same = in.Repo.tx.db == in.DB
		return out, nil
	})
	srv := epServer(t, app)

	r := epDo(t, srv, "GET", "/items/7", "", "", "Authorization", "secret")
	if r.status != 200 || r.body != `{"ID":"7","DB":"main","User":"ada@/items/7","Same":true}`+"\n" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := cl.take(); !slices.Equal(got, []string{"tx"}) {
		t.Errorf("cleanups %v", got)
	}
	// A provider's *HTTPError keeps its status.
	if r := epDo(t, srv, "GET", "/items/7", "", "", "Authorization", "nope"); r.status != 401 {
		t.Errorf("bad token: %d %s", r.status, r.body)
	}
	cl.take()
	// A transitive param is validated with the endpoint's own fields.
	if r := epDo(t, srv, "GET", "/items/7", "", ""); r.status != 422 || !slices.Equal(epFields(t, r.body), []string{"header.authorization"}) {
		t.Errorf("missing transitive param: %d %s", r.status, r.body)
	}
	// The scope is closed when the handler panics.
	if r := epDo(t, srv, "GET", "/items/panic", "", "", "Authorization", "secret"); r.status != 500 {
		t.Errorf("panic: %d", r.status)
	}
	if got := cl.take(); !slices.Equal(got, []string{"tx"}) || txSeen == nil || !txSeen.closed {
		t.Errorf("cleanups after panic %v", got)
	}

	sig := SignatureOf(ri)
	if !sig.Scoped || len(sig.Dependencies) != 3 || sig.Static() {
		t.Errorf("signature %+v", sig)
	}
	if len(sig.TransitiveParams) != 1 || sig.TransitiveParams[0].Name != "Authorization" || sig.TransitiveParams[0].In != InHeader {
		t.Errorf("transitive %+v", sig.TransitiveParams)
	}
	lts := map[string]di.Lifetime{}
	for _, d := range sig.Dependencies {
		lts[d.Field] = d.Lifetime
	}
	if lts["Repo"] != di.Scoped || lts["DB"] != di.Singleton || lts["User"] != di.Scoped {
		t.Errorf("lifetimes %v", lts)
	}
}

func TestEndpointMissingProvider(t *testing.T) {
	app := New(Config{})
	type in struct {
		R *repo `inject:""`
	}
	Get(app, "/x", func(context.Context, *in) (*struct{}, error) { return nil, nil })
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "GET /x") || !strings.Contains(err.Error(), "no provider for *graft.repo") {
		t.Fatalf("start error %v", err)
	}
}

func TestLifespanStartFailure(t *testing.T) {
	app := New(Config{})
	var stopped []string
	app.OnLifecycle(Hook{Name: "cache", OnStart: func(context.Context) error { return nil },
		OnStop: func(context.Context) error { stopped = append(stopped, "cache"); return nil }})
	app.OnLifecycle(Hook{Name: "db", OnStart: func(context.Context) error { return errors.New("connection refused") }})
	applied := false
	Get(app, "/x", func(context.Context, *struct{}) (*struct{}, error) { return nil, nil },
		Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, _ *Signature) (Endpoint, error) {
			applied = true
			return next, nil
		})))
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), `start hook "db" failed: connection refused`) {
		t.Fatalf("start error %v", err)
	}
	if applied {
		t.Error("plugins were applied although start-up failed before them")
	}
	if !slices.Equal(stopped, []string{"cache"}) {
		t.Errorf("rolled back %v", stopped)
	}
}

func TestLifespanDeadline(t *testing.T) {
	app := New(Config{})
	app.OnLifecycle(Hook{Name: "slow", Timeout: 20 * time.Millisecond, OnStart: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"slow"`) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("start error %v", err)
	}
}

// nopWriter is a reusable ResponseWriter for allocation pins.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func TestStaticEndpointAllocs(t *testing.T) {
	app := New(Config{})
	type out struct{ Body []byte }
	res := &out{Body: []byte("pong")}
	ri := Get(app, "/ping", func(context.Context, *struct{}) (*out, error) { return res, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if !SignatureOf(ri).Static() {
		t.Fatal("not static")
	}
	w := &nopWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/ping", nil)
	app.ServeHTTP(w, r)
	if n := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("static endpoint: %v allocs per request, want 0", n)
	}
}

type chainA struct{ n int }
type chainB struct{ a *chainA }
type chainC struct{ b *chainB }

func TestScopedChainAllocs(t *testing.T) {
	app := New(Config{})
	g := app.Graph()
	di.Provide(g, di.Scoped, di.Func0(func() (*chainA, error) { return &chainA{n: 1}, nil }))
	di.Provide(g, di.Scoped, di.Func1(func(a *chainA) (*chainB, error) { return &chainB{a: a}, nil }))
	di.Provide(g, di.Scoped, di.Func1(func(b *chainB) (*chainC, error) { return &chainC{b: b}, nil }))
	type in struct {
		C *chainC `inject:""`
	}
	type out struct{ Status int }
	res := &out{Status: 204}
	Get(app, "/chain", func(_ context.Context, in *in) (*out, error) {
		if in.C.b.a.n != 1 {
			return nil, errors.New("bad chain")
		}
		return res, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	w := &nopWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/chain", nil)
	app.ServeHTTP(w, r)
	// One for the request state (input + binder state), three for the
	// providers' own values.
	if n := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) }); n > 5 {
		t.Errorf("3-deep scoped chain: %v allocs per request, want <= 5", n)
	} else {
		t.Logf("3-deep scoped chain: %v allocs per request", n)
	}
}
