package di_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/graftgo/graft/di"
)

type (
	Config   struct{ DSN string }
	Database struct{ dsn string }
	UserRepo struct {
		db  *Database
		req *http.Request
	}
)

func OpenDatabase(c Config) (*Database, func(), error) {
	fmt.Println("open", c.DSN)
	return &Database{dsn: c.DSN}, func() { fmt.Println("close", c.DSN) }, nil
}

func NewUserRepo(db *Database, r *http.Request) (*UserRepo, error) {
	return &UserRepo{db: db, req: r}, nil
}

// A graph with a configuration value, a singleton with a cleanup, a scoped
// repository and an external request; one scope per request.
func Example() {
	g := di.New()
	di.Value(g, Config{DSN: "postgres://prod"})
	di.Provide(g, di.Singleton, di.Func1C(OpenDatabase))
	di.Provide(g, di.Scoped, di.Func2(NewUserRepo))
	g.External(reflect.TypeFor[*http.Request]())
	if err := g.Build(); err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()

	repos, _ := di.ResolverFor[*UserRepo](g) // at setup

	for _, path := range []string{"/a", "/b"} { // per request
		req, _ := http.NewRequest("GET", path, nil)
		func() {
			s := g.NewScope(di.SourceFunc(func(reflect.Type) (any, error) { return req, nil }))
			defer s.Close()
			repo, err := repos.Resolve(s)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(repo.req.URL.Path, repo.db.dsn)
		}()
	}
	// Output:
	// open postgres://prod
	// /a postgres://prod
	// /b postgres://prod
	// close postgres://prod
}

// Override swaps a provider, e.g. the real database for a fake in tests.
func ExampleOverride() {
	g := di.New()
	di.Value(g, Config{DSN: "postgres://prod"})
	di.Provide(g, di.Singleton, di.Func1C(OpenDatabase))

	di.Override(g, di.Singleton, di.Func0(func() (*Database, error) {
		return &Database{dsn: "fake"}, nil
	}))
	db, err := di.Get[*Database](g)
	fmt.Println(db.dsn, err)
	// Output: fake <nil>
}

// Build reports cycles with their path.
func ExampleGraph_Build() {
	type A struct{}
	type B struct{}
	g := di.New()
	di.Provide(g, di.Scoped, di.Func1(func(*B) (*A, error) { return &A{}, nil }))
	di.Provide(g, di.Scoped, di.Func1(func(*A) (*B, error) { return &B{}, nil }))
	err := g.Build()
	fmt.Println(errors.Is(err, di.ErrCycle))
	fmt.Println(err)
	// Output:
	// true
	// di: dependency cycle: *di_test.A -> *di_test.B -> *di_test.A
}

// ExternalsOf lists the request-bound types a dependency needs, directly or
// through other providers: the endpoint's transitive parameters.
func ExampleGraph_ExternalsOf() {
	g := di.New()
	di.Value(g, Config{DSN: "postgres://prod"})
	di.Provide(g, di.Singleton, di.Func1C(OpenDatabase))
	di.Provide(g, di.Scoped, di.Func2(NewUserRepo))
	g.External(reflect.TypeFor[*http.Request]())

	ext, err := g.ExternalsOf(reflect.TypeFor[*UserRepo]())
	fmt.Println(ext, err)
	// Output: [*http.Request] <nil>
}

// A binder that only has reflect.Types at setup uses Graph.Resolver.
func ExampleGraph_Resolver() {
	g := di.New()
	di.Provide(g, di.Scoped, di.Func0(func() (*Config, error) { return &Config{DSN: "x"}, nil }))

	r, err := g.Resolver(reflect.TypeFor[*Config]()) // at setup
	if err != nil {
		fmt.Println(err)
		return
	}
	s := g.NewScope(nil) // per request
	defer s.Close()
	v, err := r.Resolve(s)
	fmt.Println(v.(*Config).DSN, err)
	// Output: x <nil>
}
