package di_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/graftgo/graft/di"
)

type (
	P1 struct{}
	P2 struct{}
	P3 struct{}
	P4 struct{}
	R  struct{ n int }
)

func TestArities(t *testing.T) {
	p1, p2, p3, p4 := &P1{}, &P2{}, &P3{}, &P4{}
	check := func(ps ...any) error {
		want := []any{p1, p2, p3, p4}[:len(ps)]
		if !slices.Equal(ps, want) {
			return errors.New("wrong arguments")
		}
		return nil
	}
	cl := func() {}
	tests := []struct {
		name string
		ctor di.Ctor[*R]
		deps int
	}{
		{"Func0", di.Func0(func() (*R, error) { return &R{0}, check() }), 0},
		{"Func1", di.Func1(func(a *P1) (*R, error) { return &R{1}, check(a) }), 1},
		{"Func2", di.Func2(func(a *P1, b *P2) (*R, error) { return &R{2}, check(a, b) }), 2},
		{"Func3", di.Func3(func(a *P1, b *P2, c *P3) (*R, error) { return &R{3}, check(a, b, c) }), 3},
		{"Func4", di.Func4(func(a *P1, b *P2, c *P3, d *P4) (*R, error) { return &R{4}, check(a, b, c, d) }), 4},
		{"Func0C", di.Func0C(func() (*R, func(), error) { return &R{0}, cl, check() }), 0},
		{"Func1C", di.Func1C(func(a *P1) (*R, func(), error) { return &R{1}, cl, check(a) }), 1},
		{"Func2C", di.Func2C(func(a *P1, b *P2) (*R, func(), error) { return &R{2}, cl, check(a, b) }), 2},
		{"Func3C", di.Func3C(func(a *P1, b *P2, c *P3) (*R, func(), error) { return &R{3}, cl, check(a, b, c) }), 3},
		{"Func4C", di.Func4C(func(a *P1, b *P2, c *P3, d *P4) (*R, func(), error) { return &R{4}, cl, check(a, b, c, d) }), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(tt.ctor.Deps()); got != tt.deps {
				t.Fatalf("Deps() has %d types", got)
			}
			g := di.New()
			di.Value(g, p1)
			di.Value(g, p2)
			di.Value(g, p3)
			di.Value(g, p4)
			di.Provide(g, di.Scoped, tt.ctor)
			s := g.NewScope(nil)
			defer s.Close()
			r, err := di.Resolve[*R](s)
			if err != nil || r.n != tt.deps {
				t.Fatalf("got %v, %v", r, err)
			}
		})
		// A failing dependency stops the constructor and passes through
		// unchanged, for every parameter position.
		for i := range tt.deps {
			t.Run(tt.name+"/dep error", func(t *testing.T) {
				g := di.New()
				for j, v := range []any{p1, p2, p3, p4} {
					fail := i == j
					switch v := v.(type) {
					case *P1:
						di.Provide(g, di.Transient, di.Func0(func() (*P1, error) { return v, errIf(fail) }))
					case *P2:
						di.Provide(g, di.Transient, di.Func0(func() (*P2, error) { return v, errIf(fail) }))
					case *P3:
						di.Provide(g, di.Transient, di.Func0(func() (*P3, error) { return v, errIf(fail) }))
					case *P4:
						di.Provide(g, di.Transient, di.Func0(func() (*P4, error) { return v, errIf(fail) }))
					}
				}
				di.Provide(g, di.Scoped, tt.ctor)
				s := g.NewScope(nil)
				defer s.Close()
				_, err := di.Resolve[*R](s)
				var be *di.BuildError
				if !errors.As(err, &be) || be.Type == reflect.TypeFor[*R]() {
					t.Fatalf("got %v", err)
				}
			})
		}
	}
}

func errIf(b bool) error {
	if b {
		return errors.New("dep failed")
	}
	return nil
}

func TestScopeUseAfterClose(t *testing.T) {
	g := chainGraph(t, di.Scoped)
	r, _ := g.Resolver(reflect.TypeFor[*A]())
	s := g.NewScope(nil)
	s.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(s); !errors.Is(err, di.ErrScopeClosed) {
		t.Fatalf("got %v", err)
	}
	if _, err := di.Resolve[*A](s); !errors.Is(err, di.ErrScopeClosed) {
		t.Fatalf("got %v", err)
	}
}
