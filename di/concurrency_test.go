package di_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

// waitGroup waits for wg, failing the test naming what it waited for if
// it is not done within 10s (a deadlock in the graph would hang it).
func waitGroup(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not finish within 10s", what)
	}
}

func TestConcurrentScopes(t *testing.T) {
	g := di.New()
	var built, cleaned atomic.Int64
	di.Provide(g, di.Singleton, di.Func0(func() (*DB, error) { return &DB{}, nil }))
	di.Provide(g, di.Scoped, di.Func1C(func(*DB) (*C, func(), error) {
		built.Add(1)
		return &C{}, func() { cleaned.Add(1) }, nil
	}))
	di.Provide(g, di.Scoped, di.Func1(newB))
	di.Provide(g, di.Transient, di.Func1(newA))
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	ra, err := di.ResolverFor[*A](g)
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				s := g.NewScope(nil)
				a1, err := ra.Resolve(s)
				if err != nil {
					errs <- err
					s.Close()
					return
				}
				a2, _ := di.Resolve[*A](s)
				if a1 == a2 || a1.B != a2.B {
					t.Error("transient shared or scoped not shared")
				}
				a1.B.C.n++ // scoped values are private to the scope: no race
				s.Close()
			}
		})
	}
	waitGroup(t, &wg, "the workers' scopes to close")
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if built.Load() != workers*perWorker || cleaned.Load() != built.Load() {
		t.Fatalf("built %d, cleaned %d", built.Load(), cleaned.Load())
	}
}

func TestSingletonCreatedOnceUnderConcurrency(t *testing.T) {
	g := di.New()
	var builds atomic.Int64
	di.Provide(g, di.Singleton, di.Func0C(func() (*DB, func(), error) {
		builds.Add(1)
		time.Sleep(5 * time.Millisecond) // widen the race window
		return &DB{}, func() {}, nil
	}))
	di.Provide(g, di.Singleton, di.Func1(func(db *DB) (*Repo, error) { return &Repo{db}, nil }))
	r, err := di.ResolverFor[*Repo](g)
	if err != nil {
		t.Fatal(err)
	}
	const n = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*Repo, n)
	for i := range n {
		wg.Go(func() {
			<-start
			s := g.NewScope(nil)
			defer s.Close()
			results[i], _ = r.Resolve(s)
		})
	}
	close(start)
	waitGroup(t, &wg, "the concurrent resolutions of the singleton")
	if builds.Load() != 1 {
		t.Fatalf("singleton built %d times", builds.Load())
	}
	for _, r := range results {
		if r == nil || r != results[0] {
			t.Fatal("different singletons")
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}
