package di_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

type (
	DB      struct{ name string }
	Repo    struct{ db *DB }
	Cache   struct{}
	Session struct{}
	Helper  struct{}
	X       struct{}
	Y       struct{}
	Z       struct{}
)

func TestValidation(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(g *di.Graph)
		is      error
		message string // exact, or a prefix when it ends in "…"
	}{
		{
			name: "missing provider",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func1(func(db *DB) (*Repo, error) { return &Repo{db}, nil }))
			},
			is:      di.ErrNoProvider,
			message: "di: no provider for *di_test.DB (needed by *di_test.Repo); register one with di.Provide or di.Value, or declare it external with Graph.External",
		},
		{
			name: "cycle of two",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func1(func(*B) (*A, error) { return nil, nil }))
				di.Provide(g, di.Scoped, di.Func1(func(*A) (*B, error) { return nil, nil }))
			},
			is:      di.ErrCycle,
			message: "di: dependency cycle: *di_test.A -> *di_test.B -> *di_test.A",
		},
		{
			name: "cycle of three through a provided entry",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func0(func() (*Z, error) { return nil, nil }))
				di.Provide(g, di.Scoped, di.Func2(func(*B, *Z) (*A, error) { return nil, nil }))
				di.Provide(g, di.Transient, di.Func1(func(*C) (*B, error) { return nil, nil }))
				di.Provide(g, di.Singleton, di.Func1(func(*A) (*C, error) { return nil, nil }))
			},
			is:      di.ErrCycle,
			message: "di: dependency cycle: *di_test.A -> *di_test.B -> *di_test.C -> *di_test.A",
		},
		{
			name: "self cycle",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func1(func(*A) (*A, error) { return nil, nil }))
			},
			is:      di.ErrCycle,
			message: "di: dependency cycle: *di_test.A -> *di_test.A",
		},
		{
			name: "captive scoped",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func0(func() (*Session, error) { return nil, nil }))
				di.Provide(g, di.Singleton, di.Func1(func(*Session) (*Cache, error) { return nil, nil }))
			},
			is: di.ErrCaptive,
			message: "di: captive dependency: singleton *di_test.Cache depends on scoped *di_test.Session " +
				"(*di_test.Cache -> *di_test.Session); a singleton outlives every request: " +
				"make *di_test.Cache scoped or transient, or provide *di_test.Session as a singleton",
		},
		{
			name: "captive through a transient",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func0(func() (*Session, error) { return nil, nil }))
				di.Provide(g, di.Transient, di.Func1(func(*Session) (*Helper, error) { return nil, nil }))
				di.Provide(g, di.Singleton, di.Func1(func(*Helper) (*Cache, error) { return nil, nil }))
			},
			is:      di.ErrCaptive,
			message: "di: captive dependency: singleton *di_test.Cache depends on scoped *di_test.Session (*di_test.Cache -> *di_test.Helper -> *di_test.Session)…",
		},
		{
			name: "captive external",
			setup: func(g *di.Graph) {
				g.External(reflect.TypeFor[*http.Request]())
				di.Provide(g, di.Singleton, di.Func1(func(*http.Request) (*Cache, error) { return nil, nil }))
			},
			is:      di.ErrCaptive,
			message: "di: captive dependency: singleton *di_test.Cache depends on request-bound external *http.Request…",
		},
		{
			name: "duplicate",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func0(newC))
				di.Provide(g, di.Transient, di.Func0(newC))
			},
			is:      di.ErrDuplicate,
			message: "di: duplicate provider for *di_test.C (registered at validate_test.go:",
		},
		{
			name: "nil constructor",
			setup: func(g *di.Graph) {
				di.Provide(g, di.Scoped, di.Func1[*A, *B](nil))
				di.Provide(g, di.Scoped, di.Func0(newB0))
			},
			message: "di: nil constructor for *di_test.A (at validate_test.go:…",
		},
		{
			name:    "invalid lifetime",
			setup:   func(g *di.Graph) { di.Provide(g, 0, di.Func0(newC)) },
			message: "di: invalid lifetime Lifetime(0) for *di_test.C (at validate_test.go:…",
		},
		{
			name:    "ProvideFunc with a non-func",
			setup:   func(g *di.Graph) { di.ProvideFunc(g, di.Scoped, 42) },
			message: "di: ProvideFunc needs a non-nil func, got int…",
		},
		{
			name:    "ProvideFunc with a wrong result",
			setup:   func(g *di.Graph) { di.ProvideFunc(g, di.Scoped, func() *C { return nil }) },
			message: "di: ProvideFunc: func() *di_test.C must return (T, error) or (T, func(), error)…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := di.New()
			tt.setup(g)
			err := g.Build()
			if err == nil {
				t.Fatal("Build succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			msg := err.Error()
			if prefix, ok := strings.CutSuffix(tt.message, "…"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Errorf("message\n got %q\nwant prefix %q", msg, prefix)
				}
			} else if strings.HasPrefix(tt.message, "di: duplicate") {
				if !strings.HasPrefix(msg, tt.message) {
					t.Errorf("message\n got %q\nwant prefix %q", msg, tt.message)
				}
			} else if msg != tt.message {
				t.Errorf("message\n got %q\nwant %q", msg, tt.message)
			}
			// The same error comes back from every entry point, and a scope
			// on a broken graph returns it instead of panicking.
			if err2 := g.Build(); err2 != err {
				t.Errorf("second Build returned a different error")
			}
			s := g.NewScope(nil)
			defer s.Close()
			if s.Err() != err {
				t.Errorf("scope Err = %v", s.Err())
			}
			if _, err := di.Resolve[*A](s); err == nil {
				t.Error("Resolve on a broken graph succeeded")
			}
			if _, err := g.Resolver(reflect.TypeFor[*A]()); err == nil {
				t.Error("Resolver on a broken graph succeeded")
			}
		})
	}
}

func newB0() (*B, error) { return &B{}, nil }

func TestValidationReportsAllProblems(t *testing.T) {
	g := di.New()
	di.Provide(g, di.Scoped, di.Func1(func(*DB) (*Repo, error) { return nil, nil }))
	di.Provide(g, di.Scoped, di.Func2(func(*DB, *Y) (*X, error) { return nil, nil }))
	err := g.Build()
	var missing []string
	for _, want := range []string{
		"di: no provider for *di_test.DB (needed by *di_test.Repo)",
		"di: no provider for *di_test.DB (needed by *di_test.X)",
		"di: no provider for *di_test.Y (needed by *di_test.X)",
	} {
		if !strings.Contains(err.Error(), want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("error %q lacks %q", err, missing)
	}
}

func TestMissingDirectRequest(t *testing.T) {
	g := di.New()
	di.Provide(g, di.Scoped, di.Func0(newC))
	_, err := g.Resolver(reflect.TypeFor[*DB]())
	if !errors.Is(err, di.ErrNoProvider) || err.Error() != "di: no provider for *di_test.DB; register one with di.Provide or di.Value, or declare it external with Graph.External" {
		t.Fatalf("got %v", err)
	}
	s := g.NewScope(nil)
	defer s.Close()
	if _, err := di.Resolve[*DB](s); !errors.Is(err, di.ErrNoProvider) {
		t.Fatalf("Resolve: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	boom := errors.New("connection refused")
	tests := []struct {
		name    string
		db      di.Ctor[*DB]
		message string
		panics  bool
	}{
		{"error", di.Func0(func() (*DB, error) { return nil, boom }), "di: building *di_test.DB: connection refused", false},
		{"error with cleanup shape", di.Func0C(func() (*DB, func(), error) { return nil, nil, boom }), "di: building *di_test.DB: connection refused", false},
		{"panic", di.Func0(func() (*DB, error) { panic("kaboom") }), "di: building *di_test.DB: panic: kaboom", true},
		{"panic error value", di.Func0(func() (*DB, error) { panic(boom) }), "di: building *di_test.DB: panic: connection refused", true},
	}
	for _, tt := range tests {
		for _, lt := range []di.Lifetime{di.Singleton, di.Scoped, di.Transient} {
			t.Run(tt.name+"/"+lt.String(), func(t *testing.T) {
				g := di.New()
				di.Provide(g, lt, tt.db)
				di.Provide(g, di.Transient, di.Func1(func(db *DB) (*Repo, error) { return &Repo{db}, nil }))
				s := g.NewScope(nil)
				defer s.Close()
				_, err := di.Resolve[*Repo](s) // error of a dependency
				if err == nil || err.Error() != tt.message {
					t.Fatalf("got %v, want %q", err, tt.message)
				}
				var be *di.BuildError
				if !errors.As(err, &be) || be.Type != reflect.TypeFor[*DB]() {
					t.Fatalf("not a BuildError for *DB: %#v", err)
				}
				var pe *di.PanicError
				if got := errors.As(err, &pe); got != tt.panics {
					t.Fatalf("PanicError = %v, want %v", got, tt.panics)
				}
				if tt.panics && len(pe.Stack) == 0 {
					t.Fatal("panic without stack")
				}
				if !tt.panics && !errors.Is(err, boom) {
					t.Fatal("provider error not wrapped")
				}
			})
		}
	}
}

func TestSingletonErrorIsRetried(t *testing.T) {
	g := di.New()
	calls := 0
	di.Provide(g, di.Singleton, di.Func0(func() (*DB, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("not yet")
		}
		return &DB{}, nil
	}))
	if _, err := di.Get[*DB](g); err == nil {
		t.Fatal("first call should fail")
	}
	a, err := di.Get[*DB](g)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := di.Get[*DB](g)
	if a != b || calls != 2 {
		t.Fatalf("calls = %d", calls)
	}
}

func TestOverride(t *testing.T) {
	real := func() (*DB, error) { return &DB{name: "postgres"}, nil }
	fake := func() (*DB, error) { return &DB{name: "fake"}, nil }
	newRepo := func(db *DB) (*Repo, error) { return &Repo{db}, nil }

	tests := []struct {
		name  string
		setup func(g *di.Graph)
		want  string
	}{
		{"no override", func(g *di.Graph) {}, "postgres"},
		{"override", func(g *di.Graph) { di.Override(g, di.Singleton, di.Func0(fake)) }, "fake"},
		{"override with another lifetime", func(g *di.Graph) { di.Override(g, di.Scoped, di.Func0(fake)) }, "fake"},
		{"override value", func(g *di.Graph) { di.OverrideValue(g, &DB{name: "value"}) }, "value"},
		{"override func", func(g *di.Graph) { di.OverrideFunc(g, di.Singleton, fake) }, "fake"},
		{"override after build", func(g *di.Graph) {
			if err := g.Build(); err != nil {
				panic(err)
			}
			di.Override(g, di.Singleton, di.Func0(fake))
		}, "fake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := di.New()
			di.Provide(g, di.Singleton, di.Func0(real))
			di.Provide(g, di.Scoped, di.Func1(newRepo))
			tt.setup(g)
			if err := g.Build(); err != nil {
				t.Fatal(err)
			}
			s := g.NewScope(nil)
			defer s.Close()
			r, err := di.Resolve[*Repo](s)
			if err != nil {
				t.Fatal(err)
			}
			if r.db.name != tt.want {
				t.Fatalf("db = %q, want %q", r.db.name, tt.want)
			}
		})
	}
}

func TestOverrideWithoutProviderRegisters(t *testing.T) {
	g := di.New()
	di.Override(g, di.Scoped, di.Func0(newC))
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	if !g.Provides(reflect.TypeFor[*C]()) {
		t.Fatal("not provided")
	}
}

func TestRegistrationAfterBuildKeepsSingletonsAndResolvers(t *testing.T) {
	g := di.New()
	builds := 0
	di.Provide(g, di.Singleton, di.Func0(func() (*DB, error) { builds++; return &DB{}, nil }))
	di.Provide(g, di.Scoped, di.Func1(func(db *DB) (*Repo, error) { return &Repo{db}, nil }))
	r, err := g.Resolver(reflect.TypeFor[*Repo]())
	if err != nil {
		t.Fatal(err)
	}
	typed, err := di.ResolverFor[*Repo](g)
	if err != nil {
		t.Fatal(err)
	}
	s := g.NewScope(nil)
	v1, _ := r.Resolve(s)
	s.Close()

	// A lifespan hook adds a resource after the plan was compiled.
	di.Value(g, &Cache{})
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	s = g.NewScope(nil)
	defer s.Close()
	v2, err := r.Resolve(s) // stale resolver: falls back, still correct
	if err != nil {
		t.Fatal(err)
	}
	v3, err := typed.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	if v2.(*Repo) != v3 || v1.(*Repo).db != v3.db || builds != 1 {
		t.Fatalf("singleton rebuilt (builds=%d) or scoped value not shared", builds)
	}
	if c, err := di.Resolve[*Cache](s); err != nil || c == nil {
		t.Fatal(err)
	}
}

func TestGet(t *testing.T) {
	g := di.New()
	di.Provide(g, di.Singleton, di.Func0(func() (*DB, error) { return &DB{}, nil }))
	di.Provide(g, di.Scoped, di.Func1(func(db *DB) (*Repo, error) { return &Repo{db}, nil }))
	di.Provide(g, di.Transient, di.Func1(func(*Repo) (*Helper, error) { return &Helper{}, nil }))
	g.External(reflect.TypeFor[*http.Request]())
	db, err := di.Get[*DB](g)
	if err != nil || db == nil {
		t.Fatal(err)
	}
	s := g.NewScope(nil)
	defer s.Close()
	if r, _ := di.Resolve[*Repo](s); r.db != db {
		t.Fatal("Get and scope see different singletons")
	}
	for _, f := range []func() error{
		func() error { _, err := di.Get[*Repo](g); return err },
		func() error { _, err := di.Get[*Helper](g); return err },
		func() error { _, err := di.Get[*http.Request](g); return err },
	} {
		if err := f(); !errors.Is(err, di.ErrRequestBound) {
			t.Errorf("got %v, want ErrRequestBound", err)
		}
	}
	if _, err := di.Get[*X](g); !errors.Is(err, di.ErrNoProvider) {
		t.Errorf("got %v", err)
	}
	for typ, want := range map[reflect.Type]bool{
		reflect.TypeFor[*DB](): false, reflect.TypeFor[*Repo](): true,
		reflect.TypeFor[*Helper](): true, reflect.TypeFor[*http.Request](): true,
	} {
		if got, err := g.RequestBound(typ); err != nil || got != want {
			t.Errorf("RequestBound(%v) = %v, %v", typ, got, err)
		}
	}
}

func TestProvideFunc(t *testing.T) {
	g := di.New()
	di.ProvideFunc(g, di.Singleton, func() (*DB, func(), error) { return &DB{name: "r"}, func() {}, nil })
	di.ProvideFunc(g, di.Scoped, func(db *DB, r *http.Request) (*Repo, error) {
		if r == nil {
			return nil, errors.New("no request")
		}
		return &Repo{db}, nil
	})
	// A typed provider depending on a reflective one, and the reverse.
	di.Provide(g, di.Scoped, di.Func1(func(r *Repo) (*Helper, error) { return &Helper{}, nil }))
	di.ProvideFunc(g, di.Transient, func(h *Helper) (*X, error) { return nil, errors.New("x failed") })
	g.External(reflect.TypeFor[*http.Request]())
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	s := g.NewScope(di.SourceFunc(func(reflect.Type) (any, error) { return req, nil }))
	defer s.Close()
	h, err := di.Resolve[*Helper](s)
	if err != nil || h == nil {
		t.Fatal(err)
	}
	repo, err := di.Resolve[*Repo](s)
	if err != nil || repo.db.name != "r" {
		t.Fatal(err)
	}
	if _, err := di.Resolve[*X](s); err == nil || err.Error() != "di: building *di_test.X: x failed" {
		t.Fatalf("got %v", err)
	}
	g.Close()
}
