package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Ctx struct {
	graft.Ctx
	sqlite.Access
}

var migrations = fstest.MapFS{
	"001_notes.sql":  {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);")},
	"002_seed.sql":   {Data: []byte("INSERT INTO notes (text) VALUES ('first');\nINSERT INTO notes (text) VALUES ('second');")},
	"README.md":      {Data: []byte("not a migration")},
	"sub/003_no.sql": {Data: []byte("this is not at the root and never runs")},
}

func startApp(t *testing.T, opts sqlite.Options) (*graft.App[Ctx], *httptest.Server) {
	t.Helper()
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sqlite.Extension(opts))
	app.GET("/count", func(c *Ctx) error {
		var n int
		if err := c.DB().QueryRowContext(c.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil {
			return err
		}
		return c.Text(200, fmt.Sprint(n))
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return app, srv
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fmt.Sprint(res.StatusCode, " ", string(b))
}

func TestStartMigratesAndServes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	ext := sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: file, BusyTimeout: 2 * time.Second}, Migrations: migrations})
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(ext)
	app.GET("/count", func(c *Ctx) error {
		var n int
		if err := c.DB().QueryRowContext(c.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil {
			return err
		}
		return c.Text(200, fmt.Sprint(n))
	})
	if ext.DB() != nil {
		t.Fatal("DB before Start")
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	if got := get(t, srv.URL+"/count"); got != "200 2" {
		t.Errorf("GET /count: %s", got)
	}
	db := ext.DB()
	var mode string
	var busy int
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v, want wal", mode, err)
	}
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 2000 {
		t.Errorf("busy_timeout %d %v, want 2000", busy, err)
	}
	rows, err := db.Query("SELECT name, length(sha256) FROM graft_migrations ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name string
		var n int
		rows.Scan(&name, &n)
		got = append(got, fmt.Sprint(name, ":", n))
	}
	rows.Close()
	if strings.Join(got, " ") != "001_notes.sql:64 002_seed.sql:64" {
		t.Errorf("recorded migrations: %v", got)
	}
	srv.Close()
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ext.DB() != nil || db.Ping() == nil {
		t.Error("the database is still open after Stop")
	}
}

// TestMigrationsApplyOnce: a second start applies nothing; a new file is
// applied alone; a changed one stops start-up naming it.
func TestMigrationsApplyOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite3", "file:"+file)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	ctx := context.Background()
	db := open()
	if got, err := sqlite.Migrate(ctx, db, migrations); err != nil || strings.Join(got, ",") != "001_notes.sql,002_seed.sql" {
		t.Fatalf("first run: %v %v", got, err)
	}
	if got, err := sqlite.Migrate(ctx, db, migrations); err != nil || len(got) != 0 {
		t.Fatalf("second run applied %v %v", got, err)
	}
	more := fstest.MapFS{"003_more.sql": {Data: []byte("INSERT INTO notes (text) VALUES ('third');")}}
	for k, v := range migrations {
		more[k] = v
	}
	if got, err := sqlite.Migrate(ctx, db, more); err != nil || strings.Join(got, ",") != "003_more.sql" {
		t.Fatalf("third file: %v %v", got, err)
	}
	_, srv := startApp(t, sqlite.Options{Config: sqlite.Config{File: file}, Migrations: more})
	if got := get(t, srv.URL+"/count"); got != "200 3" {
		t.Errorf("after restart: %s, want 3 notes (nothing applied twice)", got)
	}

	changed := fstest.MapFS{"001_notes.sql": {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY);")}}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: file}, Migrations: changed}))
	err := app.Start(ctx)
	if err == nil {
		app.Stop(ctx)
		t.Fatal("started with a changed migration")
	}
	if !strings.Contains(err.Error(), sqlite.ID) || !strings.Contains(err.Error(), "migration 001_notes.sql: changed after it was applied") {
		t.Errorf("message: %v", err)
	}
}

// TestFailingMigrationRollsBack: a bad file stops start-up naming it, what
// it did before failing is rolled back, and it is not recorded.
func TestFailingMigrationRollsBack(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	bad := fstest.MapFS{
		"001_ok.sql":  {Data: []byte("CREATE TABLE a (x);")},
		"002_bad.sql": {Data: []byte("CREATE TABLE b (x);\nINSERT INTO nowhere VALUES (1);")},
		"003_ok.sql":  {Data: []byte("CREATE TABLE c (x);")},
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: file}, Migrations: bad}))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with a failing migration")
	}
	if !strings.Contains(err.Error(), "migration 002_bad.sql") || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("message: %v", err)
	}
	db, _ := sql.Open("sqlite3", "file:"+file)
	defer db.Close()
	var tables string
	db.QueryRow("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)").Scan(&tables)
	if tables != "a,graft_migrations" {
		t.Errorf("tables after the failure: %q, want a,graft_migrations", tables)
	}
	var names string
	db.QueryRow("SELECT group_concat(name) FROM graft_migrations").Scan(&names)
	if names != "001_ok.sql" {
		t.Errorf("recorded: %q", names)
	}
}

// TestConcurrentMigrate: processes starting at once (here: four pools on
// one file) apply each migration once between them.
func TestConcurrentMigrate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	ctx := context.Background()
	// The file exists in WAL mode before the pools open it, as after a
	// first start: switching a fresh file to WAL from several connections
	// at once can fail with SQLITE_BUSY without waiting for the busy
	// timeout (SQLite takes that lock without the busy handler), which is
	// not what this test is about.
	first, err := sql.Open("sqlite3", "file:"+file+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Ping(); err != nil {
		t.Fatal(err)
	}
	first.Close()
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := sql.Open("sqlite3", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			got, err := sqlite.Migrate(ctx, db, migrations)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			for _, n := range got {
				count[n]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if count["001_notes.sql"] != 1 || count["002_seed.sql"] != 1 {
		t.Errorf("applications per file: %v, want 1 each", count)
	}
}

// TestConcurrentWriters: read-modify-write transactions from many
// goroutines all commit: BEGIN IMMEDIATE plus the busy timeout make them
// wait for the lock instead of failing with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	app, _ := startApp(t, sqlite.Options{Config: sqlite.Config{File: file}, Migrations: fstest.MapFS{
		"001.sql": {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0);")},
	}})
	_ = app
	db, err := sql.Open("sqlite3", "file:"+file+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 8 {
		wg.Go(func() {
			for range 25 {
				tx, err := db.Begin()
				if err != nil {
					errs <- err
					return
				}
				var n int
				if err := tx.QueryRow("SELECT n FROM counter").Scan(&n); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if _, err := tx.Exec("UPDATE counter SET n = ?", n+1); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	db.QueryRow("SELECT n FROM counter").Scan(&n)
	if n != 200 {
		t.Fatalf("counter %d after 200 increments", n)
	}
}

// TestConfigFromFile: the [sqlite] section of a TOML file overrides the
// code's settings.
func TestConfigFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "from-config.db")
	conf := filepath.Join(dir, "app.toml")
	if err := os.WriteFile(conf, []byte("[sqlite]\nfile = \""+file+"\"\nbusy-timeout = \"1500ms\"\nforeign-keys = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ext := sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: "from-code.db"}})
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(ext)
	if err := app.ParseFlags([]string{"--config", conf}); err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if s := ext.Settings(); s.File != file || s.BusyTimeout != 1500*time.Millisecond || !s.ForeignKeys {
		t.Errorf("settings %+v", s)
	}
	var busy, fk int
	ext.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy)
	ext.DB().QueryRow("PRAGMA foreign_keys").Scan(&fk)
	if busy != 1500 || fk != 1 {
		t.Errorf("busy_timeout %d, foreign_keys %d", busy, fk)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the file from the config was not opened: %v", err)
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts sqlite.Options
		want string
	}{
		{"no file", sqlite.Options{}, "no database file: set Options.Config.File, sqlite.file in the config, GRAFT_SQLITE_FILE or --sqlite.file"},
		{"named, no file", sqlite.Options{Name: "audit"}, "graft.ext.sqlite:audit"},
		{"negative timeout", sqlite.Options{Config: sqlite.Config{File: "x.db", BusyTimeout: -time.Second}}, "must not be negative"},
		{"unopenable", sqlite.Options{Config: sqlite.Config{File: filepath.Join(t.TempDir(), "missing", "dir", "x.db")}}, "opening"},
	} {
		app := graft.NewWithContext[Ctx](graft.Config{})
		app.Register(sqlite.Extension(tc.opts))
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%s: started", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), sqlite.ID) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.GET("/", func(c *Ctx) error { return nil })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("the Access mixin started without the extension")
	}
	if !strings.Contains(err.Error(), "Access") || !strings.Contains(err.Error(), sqlite.ID) {
		t.Errorf("mixin message: %v", err)
	}
}

// TestGroupShadowsApp: a group with its own (named) database serves its
// routes from it; the app's other routes keep the app's.
func TestGroupShadowsApp(t *testing.T) {
	dir := t.TempDir()
	mk := func(text string) fstest.MapFS {
		return fstest.MapFS{"001.sql": {Data: []byte("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('" + text + "');")}}
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sqlite.Extension(sqlite.Options{Config: sqlite.Config{File: filepath.Join(dir, "main.db")}, Migrations: mk("main")}))
	audit := app.Group("/audit")
	audit.Register(sqlite.Extension(sqlite.Options{Name: "audit", Config: sqlite.Config{File: filepath.Join(dir, "audit.db")}, Migrations: mk("audit")}))
	h := func(c *Ctx) error {
		var s string
		if err := sqlite.DB.Get(&c.Ctx).QueryRowContext(c.Context(), "SELECT text FROM notes").Scan(&s); err != nil {
			return err
		}
		return c.Text(200, s)
	}
	app.GET("/note", h)
	audit.GET("/note", h)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer func() { srv.Close(); app.Stop(context.Background()) }()
	if got := get(t, srv.URL+"/note"); got != "200 main" {
		t.Errorf("/note: %s", got)
	}
	if got := get(t, srv.URL+"/audit/note"); got != "200 audit" {
		t.Errorf("/audit/note: %s", got)
	}
}

func TestMemory(t *testing.T) {
	_, srv := startApp(t, sqlite.Options{Config: sqlite.Config{File: ":memory:"}, Migrations: migrations})
	if got := get(t, srv.URL+"/count"); got != "200 2" {
		t.Errorf("in memory: %s", got)
	}
}

// dependent is an extension that requires SQLite and names its file with
// a key of its own, through Configure.
type dependent struct{ file string }

func (*dependent) ID() string         { return "test.dependent" }
func (*dependent) Requires() []string { return []string{sqlite.Extension(sqlite.Options{}).ID()} }
func (d *dependent) Extend(b *graft.Builder) error {
	db, err := graft.Require[*sqlite.SQLite](b)
	if err != nil {
		return err
	}
	db.Configure(func(c *sqlite.Config) { c.File = d.file })
	return nil
}

// TestConfigure checks that a requiring extension's Configure in Extend
// decides the file that Start opens.
func TestConfigure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dependent.db")
	ext := sqlite.Extension(sqlite.Options{})
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(ext, &dependent{file: file})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if s := ext.Settings(); s.File != file {
		t.Errorf("file %q, want %q", s.File, file)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the configured file was not opened: %v", err)
	}
}
