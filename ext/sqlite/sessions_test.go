package sqlite_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/ext/sessions/sessionstest"
	"github.com/graftgo/graft/ext/sqlite"
	"github.com/graftgo/graft/graftest"
)

// TestSessionStore runs the sessions conformance suite (store semantics,
// expiry, the HTTP flow, 24 concurrent requests of one session) against
// a store in a real database file opened by the extension.
func TestSessionStore(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		ext := sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: filepath.Join(t.TempDir(), "sessions.db")}})
		st := ext.SessionStore()
		app := graft.New(graft.Config{})
		app.Register(ext)
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Stop(context.Background()) })
		return st
	})
}

// TestSessionStoreOnPlainDB: NewSessionStore on a database the app opened
// itself, used by the sessions extension next to the sqlite extension's
// own mixin.
func TestSessionStoreOnPlainDB(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain.db")
	db, err := sql.Open("sqlite3", "file:"+file+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := sqlite.NewSessionStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	app := graft.New(graft.Config{})
	ext := sessions.Extension(sessions.Options{Store: st})
	app.Register(ext)
	app.GET("/", func(c *graft.Ctx) error { sessions.Get(c, ext).Set("k", "v"); return c.Text(200, "ok") })
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	defer app.Stop(context.Background())
	id := strings.TrimPrefix(strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0], "session=")
	var n int
	if err := db.QueryRow("SELECT count(*) FROM graft_session_values WHERE id = ? AND key = 'k' AND value = 'v'", id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("row of the saved value: %d %v", n, err)
	}
}

// TestSessionStoreBeforeStart: the store answers a clear error, not a
// panic, while the database is not open.
func TestSessionStoreBeforeStart(t *testing.T) {
	st := sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: "x.db"}}).SessionStore()
	if _, _, err := st.Load(context.Background(), "id"); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Fatalf("Load before Start: %v", err)
	}
}

// BenchmarkSessionStore: a bare handler, a session read and a session
// write through the sessions extension on the SQLite store.
func BenchmarkSessionStore(b *testing.B) {
	ctx := context.Background()
	ext := sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: filepath.Join(b.TempDir(), "bench.db")}})
	st := ext.SessionStore()
	sx := sessions.Extension(sessions.Options{Store: st})
	app := graft.New(graft.Config{})
	app.Register(ext, sx)
	app.GET("/bare", func(c *graft.Ctx) error { return c.Text(200, "ok") })
	app.GET("/get", func(c *graft.Ctx) error { v, _ := sessions.Get(c, sx).Get("user"); return c.Text(200, v) })
	app.GET("/set", func(c *graft.Ctx) error { sessions.Get(c, sx).Set("n", "1"); return c.Text(200, "ok") })
	if err := app.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(ctx)
	id, err := st.Save(ctx, "", sessions.Changes{Set: map[string]string{"user": "ada"}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/bare", "/get", "/set"} {
		b.Run(p[1:], func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", p, nil)
			req.Header.Set("Cookie", "session="+id)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				app.ServeHTTP(w, req)
			}
		})
	}
}
