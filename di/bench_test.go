package di_test

import (
	"reflect"
	"testing"

	"github.com/graftgo/graft/di"
)

// chainGraph registers A <- B <- C, all scoped, typed providers.
func chainGraph(tb testing.TB, lt di.Lifetime) *di.Graph {
	g := di.New()
	di.Provide(g, lt, di.Func0(newC))
	di.Provide(g, lt, di.Func1(newB))
	di.Provide(g, lt, di.Func1(newA))
	if err := g.Build(); err != nil {
		tb.Fatal(err)
	}
	return g
}

// The 3 allocations are the three values the constructors create; the
// scope itself is pooled and the plan adds nothing.
func TestScopedChainAllocs(t *testing.T) {
	g := chainGraph(t, di.Scoped)
	typed, err := di.ResolverFor[*A](g)
	if err != nil {
		t.Fatal(err)
	}
	untyped, err := g.Resolver(reflect.TypeFor[*A]())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		resolve func(s *di.Scope) (*A, error)
	}{
		{"ResolverOf", typed.Resolve},
		{"Resolver", func(s *di.Scope) (*A, error) { v, err := untyped.Resolve(s); a, _ := v.(*A); return a, err }},
		{"Resolve", di.Resolve[*A]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(1000, func() {
				s := g.NewScope(nil)
				a, err := tt.resolve(s)
				if err != nil || a.B.C == nil {
					t.Fatal(err)
				}
				s.Close()
			})
			if allocs > 5 {
				t.Fatalf("%v allocs per scope, want <= 5", allocs)
			}
		})
	}
}

func BenchmarkScopedChain3(b *testing.B) {
	g := chainGraph(b, di.Scoped)
	r, err := di.ResolverFor[*A](g)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := g.NewScope(nil)
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkScopedChain3Untyped(b *testing.B) {
	g := chainGraph(b, di.Scoped)
	r, err := g.Resolver(reflect.TypeFor[*A]())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := g.NewScope(nil)
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkScopedChain3ResolveGeneric(b *testing.B) {
	g := chainGraph(b, di.Scoped)
	b.ReportAllocs()
	for b.Loop() {
		s := g.NewScope(nil)
		if _, err := di.Resolve[*A](s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkScopedChain3Parallel(b *testing.B) {
	g := chainGraph(b, di.Scoped)
	r, err := di.ResolverFor[*A](g)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := g.NewScope(nil)
			if _, err := r.Resolve(s); err != nil {
				b.Error(err)
				return
			}
			s.Close()
		}
	})
}

func BenchmarkSingleton(b *testing.B) {
	g := chainGraph(b, di.Singleton)
	r, err := di.ResolverFor[*A](g)
	if err != nil {
		b.Fatal(err)
	}
	s := g.NewScope(nil)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransient(b *testing.B) {
	g := di.New()
	di.Provide(g, di.Transient, di.Func0(newC))
	r, err := di.ResolverFor[*C](g)
	if err != nil {
		b.Fatal(err)
	}
	s := g.NewScope(nil)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransientChain3(b *testing.B) {
	g := chainGraph(b, di.Transient)
	r, err := di.ResolverFor[*A](g)
	if err != nil {
		b.Fatal(err)
	}
	s := g.NewScope(nil)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProvideFuncChain3(b *testing.B) {
	g := di.New()
	di.ProvideFunc(g, di.Scoped, newC)
	di.ProvideFunc(g, di.Scoped, newB)
	di.ProvideFunc(g, di.Scoped, newA)
	r, err := g.Resolver(reflect.TypeFor[*A]())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := g.NewScope(nil)
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
