package graft

import (
	"net/http"
	"testing"
)

var (
	benchInt  = NewProperty("test.bench.int", func() int { return 7 })
	benchStr  = NewProperty[string]("test.bench.str", nil)
	benchList = NewProperty("test.bench.list", func() []string { return make([]string, 0, 4) })
)

func pooledCtx(t testing.TB) *Ctx {
	app := New(Config{})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return app.pool.Get()
}

func TestPropertyGetSetAllocs(t *testing.T) {
	c := pooledCtx(t)
	if n := testing.AllocsPerRun(1000, func() {
		benchInt.Set(c, benchInt.Get(c)+1)
		benchStr.Set(c, "x")
		_ = benchStr.Get(c)
		c.props.Reset()
	}); n != 0 {
		t.Fatalf("property Get/Set allocates %v times, want 0", n)
	}
}

func TestPropertyDefaultPerInstanceAndReset(t *testing.T) {
	c := pooledCtx(t)
	if benchInt.IsSet(c) || benchInt.Get(c) != 7 || !benchInt.IsSet(c) {
		t.Fatal("default not built on first Get")
	}
	l := benchList.Get(c)
	benchList.Set(c, append(l, "a"))
	*benchInt.Ptr(c) += 3
	if benchInt.Get(c) != 10 || len(benchList.Get(c)) != 1 {
		t.Fatal("Set/Ptr not visible")
	}
	c.release()
	c.reset(nil, &http.Request{})
	if benchInt.IsSet(c) || benchInt.Get(c) != 7 || len(benchList.Get(c)) != 0 {
		t.Fatal("values survived the reset")
	}
	// A property declared after the context was made still works.
	late := NewProperty("test.late", func() string { return "late" })
	if late.Get(c) != "late" {
		t.Fatal("late property")
	}
	late.Set(c, "set")
	c.release()
	if late.IsSet(c) {
		t.Fatal("late property survived the reset")
	}
}

func BenchmarkPropertyGetSet(b *testing.B) {
	c := pooledCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		benchInt.Set(c, benchInt.Get(c)+1)
	}
}
