package sqlite_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sqlite"
	"github.com/graftgo/graft/graftest"
)

func benchApp(tb testing.TB) *graft.App[Ctx] {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: filepath.Join(tb.TempDir(), "bench.db")}, Migrations: migrations}))
	app.GET("/bare", func(c *Ctx) error { return c.Text(200, "ok") })
	app.GET("/db", func(c *Ctx) error {
		if c.DB() == nil {
			return c.Text(500, "no db")
		}
		return c.Text(200, "ok")
	})
	app.GET("/query", func(c *Ctx) error {
		var text string
		if err := c.DB().QueryRowContext(c.Context(), "SELECT text FROM notes WHERE id = 1").Scan(&text); err != nil {
			return err
		}
		return c.Text(200, text)
	})
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkSQLite: a bare handler, one that reaches the database through
// the scope value (c.DB()), and one that runs a point query.
func BenchmarkSQLite(b *testing.B) {
	app := benchApp(b)
	for _, p := range []string{"/bare", "/db", "/query"} {
		b.Run(p[1:], func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", p, nil)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				app.ServeHTTP(w, req)
			}
		})
	}
}

// TestScopeValueAllocs: reaching the database costs no allocation.
func TestScopeValueAllocs(t *testing.T) {
	app := benchApp(t)
	w := graftest.NewDiscard()
	count := func(p string) float64 {
		req := httptest.NewRequest("GET", p, nil)
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	if bare, db := count("/bare"), count("/db"); db != bare {
		t.Errorf("c.DB(): %v allocs, bare handler %v", db, bare)
	}
}
