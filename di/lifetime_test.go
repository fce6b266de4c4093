package di_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

func TestLifetimes(t *testing.T) {
	tests := []struct {
		lt          di.Lifetime
		sameInScope bool // two resolutions in one scope share the value
		sameAcross  bool // two scopes share the value
		builds      int  // constructor calls for 2 scopes x 2 resolutions
	}{
		{di.Singleton, true, true, 1},
		{di.Scoped, true, false, 2},
		{di.Transient, false, false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.lt.String(), func(t *testing.T) {
			g := di.New()
			builds := 0
			di.Provide(g, tt.lt, di.Func0(func() (*C, error) { builds++; return &C{n: builds}, nil }))
			if err := g.Build(); err != nil {
				t.Fatal(err)
			}
			var got [2][2]*C
			for i := range 2 {
				s := g.NewScope(nil)
				for j := range 2 {
					c, err := di.Resolve[*C](s)
					if err != nil {
						t.Fatal(err)
					}
					got[i][j] = c
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if same := got[0][0] == got[0][1]; same != tt.sameInScope {
				t.Errorf("same in scope = %v, want %v", same, tt.sameInScope)
			}
			if same := got[0][0] == got[1][0]; same != tt.sameAcross {
				t.Errorf("same across scopes = %v, want %v", same, tt.sameAcross)
			}
			if builds != tt.builds {
				t.Errorf("builds = %d, want %d", builds, tt.builds)
			}
			if lt, ok := g.LifetimeOf(reflect.TypeFor[*C]()); !ok || lt != tt.lt {
				t.Errorf("LifetimeOf = %v, %v", lt, ok)
			}
		})
	}
}

func TestLifetimeString(t *testing.T) {
	for lt, want := range map[di.Lifetime]string{di.Singleton: "singleton", di.Scoped: "scoped", di.Transient: "transient", 0: "Lifetime(0)"} {
		if got := lt.String(); got != want {
			t.Errorf("%d: got %q want %q", lt, got, want)
		}
	}
}

// chainWithCleanups registers A <- B <- C with the given lifetime, each
// cleanup appending its name to log.
func chainWithCleanups(g *di.Graph, lt di.Lifetime, log *[]string) {
	di.Provide(g, lt, di.Func0C(func() (*C, func(), error) {
		return &C{}, func() { *log = append(*log, "C") }, nil
	}))
	di.Provide(g, lt, di.Func1C(func(c *C) (*B, func(), error) {
		return &B{C: c}, func() { *log = append(*log, "B") }, nil
	}))
	di.Provide(g, lt, di.Func1C(func(b *B) (*A, func(), error) {
		return &A{B: b}, func() { *log = append(*log, "A") }, nil
	}))
}

func TestScopedCleanupReverseOrder(t *testing.T) {
	var log []string
	g := di.New()
	chainWithCleanups(g, di.Scoped, &log)
	s := g.NewScope(nil)
	if _, err := di.Resolve[*A](s); err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Fatalf("cleanup ran before Close: %v", log)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"A", "B", "C"}; !slices.Equal(log, want) {
		t.Fatalf("cleanup order %v, want %v", log, want)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("graph close ran scoped cleanups again: %v", log)
	}
}

func TestSingletonCleanupAtGraphClose(t *testing.T) {
	var log []string
	g := di.New()
	chainWithCleanups(g, di.Singleton, &log)
	for range 3 {
		s := g.NewScope(nil)
		if _, err := di.Resolve[*A](s); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if len(log) != 0 {
		t.Fatalf("singleton cleanup ran at scope close: %v", log)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"A", "B", "C"}; !slices.Equal(log, want) {
		t.Fatalf("cleanup order %v, want %v", log, want)
	}
	if err := g.Close(); err != nil || len(log) != 3 {
		t.Fatalf("second Close: %v, %v", err, log)
	}
	s := g.NewScope(nil)
	defer s.Close()
	if _, err := di.Resolve[*A](s); !errors.Is(err, di.ErrClosed) {
		t.Fatalf("resolve after Close: %v", err)
	}
}

func TestTransientCleanup(t *testing.T) {
	var log []string
	g := di.New()
	n := 0
	di.Provide(g, di.Transient, di.Func0C(func() (*C, func(), error) {
		n++
		id := string(rune('0' + n))
		return &C{}, func() { log = append(log, id) }, nil
	}))
	// A singleton that needs a transient: the transient's cleanup belongs to
	// the graph.
	di.Provide(g, di.Singleton, di.Func1(newB))
	s := g.NewScope(nil)
	for range 2 {
		if _, err := di.Resolve[*C](s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := di.Resolve[*B](s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if want := []string{"2", "1"}; !slices.Equal(log, want) {
		t.Fatalf("scope cleanups %v, want %v", log, want)
	}
	g.Close()
	if want := []string{"2", "1", "3"}; !slices.Equal(log, want) {
		t.Fatalf("after graph close %v, want %v", log, want)
	}
}

func TestCleanupsRunWhenRequestPanics(t *testing.T) {
	var log []string
	g := di.New()
	chainWithCleanups(g, di.Scoped, &log)
	func() {
		defer func() { _ = recover() }()
		s := g.NewScope(nil)
		defer s.Close()
		if _, err := di.Resolve[*A](s); err != nil {
			t.Fatal(err)
		}
		panic("handler blew up")
	}()
	if want := []string{"A", "B", "C"}; !slices.Equal(log, want) {
		t.Fatalf("cleanups after panic %v, want %v", log, want)
	}
}

func TestPanickingCleanupDoesNotStopOthers(t *testing.T) {
	var log []string
	g := di.New()
	di.Provide(g, di.Scoped, di.Func0C(func() (*C, func(), error) {
		return &C{}, func() { log = append(log, "C") }, nil
	}))
	di.Provide(g, di.Scoped, di.Func1C(func(c *C) (*B, func(), error) {
		return &B{C: c}, func() { panic("B cleanup") }, nil
	}))
	di.Provide(g, di.Scoped, di.Func1C(func(b *B) (*A, func(), error) {
		return &A{B: b}, func() { log = append(log, "A") }, nil
	}))
	s := g.NewScope(nil)
	if _, err := di.Resolve[*A](s); err != nil {
		t.Fatal(err)
	}
	err := s.Close()
	if want := []string{"A", "C"}; !slices.Equal(log, want) {
		t.Fatalf("cleanups %v, want %v", log, want)
	}
	var ce *di.CleanupError
	if !errors.As(err, &ce) || ce.Type != reflect.TypeFor[*B]() {
		t.Fatalf("Close error = %v", err)
	}
	if !strings.Contains(err.Error(), "di: cleanup of *di_test.B: panic: B cleanup") {
		t.Fatalf("message %q", err)
	}
}

// A singleton whose build finishes after Graph.Close must not keep its
// resource: its cleanup runs at once and the resolution fails.
func TestSingletonBuiltDuringCloseIsCleanedUp(t *testing.T) {
	g := di.New()
	entered, release := make(chan struct{}), make(chan struct{})
	cleaned := make(chan struct{}, 1)
	di.Provide(g, di.Singleton, di.Func0C(func() (*A, func(), error) {
		close(entered)
		<-release
		return &A{}, func() { cleaned <- struct{}{} }, nil
	}))
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		s := g.NewScope(nil)
		defer s.Close()
		_, err := di.Resolve[*A](s)
		res <- err
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the constructor to start")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	select {
	case err := <-res:
		if !errors.Is(err, di.ErrClosed) {
			t.Fatalf("resolution finishing after Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the resolution to return")
	}
	select {
	case <-cleaned:
	default:
		t.Fatal("the cleanup of a singleton built while the graph closed never ran")
	}
}
