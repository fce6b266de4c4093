package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
	_ "github.com/ncruces/go-sqlite3/driver" // database/sql driver "sqlite3"
)

// ID is the extension's ID; one with Options.Name is "graft.ext.sqlite:NAME".
const ID = "graft.ext.sqlite"

// DefaultBusyTimeout is Config.BusyTimeout when it is 0.
const DefaultBusyTimeout = 5 * time.Second

// Config holds the settings that come from code or from the app's config
// (the [sqlite] section: sqlite.file, GRAFT_SQLITE_FILE, --sqlite.file…).
type Config struct {
	// File is the database file, created when missing; required.
	// ":memory:" is a private in-memory database (one connection, no WAL).
	File string `help:"SQLite database file"`
	// BusyTimeout is how long a statement waits for another connection's
	// lock before failing with SQLITE_BUSY.
	BusyTimeout time.Duration `help:"how long a statement waits for a lock" default:"5s"`
	// MaxOpenConns bounds the pool (0: database/sql's default, no bound).
	MaxOpenConns int `help:"most open connections (0: no bound)"`
	// ForeignKeys turns on foreign key enforcement on every connection.
	ForeignKeys bool `help:"enforce foreign keys"`
}

// Options configures the extension.
type Options struct {
	// Config is the starting value of the settings, which the app's config
	// (file, env, flags) then overrides key by key.
	Config Config
	// Migrations holds *.sql files at its root, applied once each, in the
	// order of their names (001_init.sql, 002_notes.sql…), at start; use
	// fs.Sub to point into an embed.FS. Nil: no migrations.
	Migrations fs.FS
	// Name tells several databases apart: the ID becomes
	// graft.ext.sqlite:NAME and the config section sqlite-NAME.
	Name string
}

// SQLite is the router-level database extension. Make it with Extension;
// register it on the app or a group.
type SQLite struct {
	opts Options
	cfg  Config
	b    *graft.Builder
	db   *sql.DB

	sessions *SessionStore // made by SessionStore; its tables are created at Start
}

// DB is the scope value the extension publishes its database in, at Start:
// handlers, mixins, middleware and plugins of the scope read it with
// sqlite.DB.Get(c), without a per-request copy. A group that registers its
// own SQLite shadows the app's for its routes.
var DB = graft.NewScopeValue[*sql.DB]("graft.ext.sqlite.db")

// Extension returns the SQLite extension configured by opts.
func Extension(opts Options) *SQLite {
	return &SQLite{opts: opts, cfg: opts.Config}
}

// ID implements graft.Extension.
func (s *SQLite) ID() string {
	if s.opts.Name != "" {
		return ID + ":" + s.opts.Name
	}
	return ID
}

// ConfigSection implements graft.ConfigSectioner: the settings are the
// app config's [sqlite] section ([sqlite-NAME] with Options.Name).
func (s *SQLite) ConfigSection() (string, any) {
	if s.opts.Name != "" {
		return "sqlite-" + s.opts.Name, &s.cfg
	}
	return "sqlite", &s.cfg
}

// Extend keeps the Builder: Start publishes the database through it.
func (s *SQLite) Extend(b *graft.Builder) error {
	s.b = b
	return nil
}

// Validate checks the settings before anything is opened.
func (s *SQLite) Validate() error {
	if s.cfg.File == "" {
		sec, _ := s.ConfigSection()
		return fmt.Errorf("no database file: set Options.Config.File, %s.file in the config, GRAFT_%s_FILE or --%s.file",
			sec, strings.ToUpper(strings.ReplaceAll(sec, "-", "_")), sec)
	}
	if s.cfg.BusyTimeout < 0 || s.cfg.MaxOpenConns < 0 {
		return fmt.Errorf("busy timeout %v and max open conns %d must not be negative", s.cfg.BusyTimeout, s.cfg.MaxOpenConns)
	}
	return nil
}

// dsn is the driver's data source name for the settings: WAL (for files),
// the busy timeout and foreign keys as pragmas on every connection, and
// BEGIN IMMEDIATE for transactions, so that a transaction that reads then
// writes takes the write lock at once and waits for it (busy timeout)
// instead of failing when another writer committed in between.
func (s *SQLite) dsn() string {
	bt := s.cfg.BusyTimeout
	if bt == 0 {
		bt = DefaultBusyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(bt.Milliseconds(), 10)+")")
	if s.cfg.File != ":memory:" {
		q.Add("_pragma", "journal_mode(wal)")
	}
	if s.cfg.ForeignKeys {
		q.Add("_pragma", "foreign_keys(1)")
	}
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: s.cfg.File}).EscapedPath() + "?" + q.Encode()
}

// Start opens the database, checks that WAL is on, applies the pending
// migrations and publishes the database in the scope.
func (s *SQLite) Start(ctx context.Context) error {
	db, err := sql.Open("sqlite3", s.dsn())
	if err != nil {
		return err
	}
	if s.cfg.File == ":memory:" {
		db.SetMaxOpenConns(1) // every connection would be a database of its own
	} else if s.cfg.MaxOpenConns > 0 {
		db.SetMaxOpenConns(s.cfg.MaxOpenConns)
	}
	fail := func(err error) error { db.Close(); return err }
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(fmt.Errorf("opening %s: %w", s.cfg.File, err))
	}
	if s.cfg.File != ":memory:" && !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("opening %s: journal mode is %q, not wal (a file system without shared memory?)", s.cfg.File, mode))
	}
	if s.opts.Migrations != nil {
		if _, err := Migrate(ctx, db, s.opts.Migrations); err != nil {
			return fail(fmt.Errorf("%s: %w", s.cfg.File, err))
		}
	}
	if s.sessions != nil {
		if _, err := db.ExecContext(ctx, sessionsSchema); err != nil {
			return fail(fmt.Errorf("%s: creating the session store's tables: %w", s.cfg.File, err))
		}
	}
	s.db = db
	DB.Set(s.b, db)
	return nil
}

// Stop closes the database.
func (s *SQLite) Stop(context.Context) error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// DB returns the database while the app runs (after Start, before Stop),
// nil otherwise.
func (s *SQLite) DB() *sql.DB { return s.db }

// Configure changes the settings after the app's config was loaded: for an
// extension that requires this one and has its own spelling of a key (in
// its Extend), or app code before Start. Validate then checks the result.
// examples/chat uses it so that its --db flag names the file.
func (s *SQLite) Configure(f func(*Config)) { f(&s.cfg) }

// Settings returns the settings in force: Options.Config overridden by the
// app's config.
func (s *SQLite) Settings() Config { return s.cfg }

// Access is the context mixin of the extension: c.DB() in handlers. It
// belongs to the extension, so an app whose context embeds Access fails to
// start until an SQLite is registered.
type Access struct{ graft.MixinOf[*SQLite] }

// DB returns the database of the nearest scope that registered an SQLite,
// nil outside them.
func (a *Access) DB() *sql.DB { return DB.Get(a.Ctx()) }
