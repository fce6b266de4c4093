package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/graftgo/graft"
	_ "github.com/ncruces/go-sqlite3/driver" // database/sql driver "sqlite3"
)

// SQLite is a router-level extension (webpp's `router.sqlite`): registered
// on a router (the app or a group), configured at start-up (the file comes
// from code or from the --db flag), connected in Start and closed in Stop.
// Handlers of its scope reach the database through the DBAccess mixin, or
// DB.Get(c) for its scope value.
type SQLite struct {
	// File is the database file; required. Config key sqlite.file, flag
	// --db, env GRAFT_SQLITE_FILE.
	File string `flag:"db,sqlite.file" help:"SQLite database file for the notes"`
	// Schema is run once at start-up (not a config key).
	Schema string `toml:"-"`

	db *sql.DB
	b  *graft.Builder
}

// DB is the scope value through which the extension publishes its
// database for its router (webpp's router-level resource): set once at
// Start, read by handlers and mixins of the scope with no per-request copy.
var DB = graft.NewScopeValue[*sql.DB]("example.sqlite.db")

// ID implements graft.Extension.
func (s *SQLite) ID() string { return "example.sqlite" }

// ConfigSection implements graft.ConfigSectioner: the extension's settings
// are the [sqlite] section of the app's config.
func (s *SQLite) ConfigSection() (string, any) { return "sqlite", s }

// Extend keeps the Builder: Start publishes the database through it.
func (s *SQLite) Extend(b *graft.Builder) error {
	s.b = b
	return nil
}

// Validate checks the configuration before anything is opened.
func (s *SQLite) Validate() error {
	if s.File == "" {
		return errors.New("no database file: set SQLite.File, sqlite.file in the config or pass --db")
	}
	return nil
}

// Start opens the database and applies the schema.
func (s *SQLite) Start(ctx context.Context) error {
	db, err := sql.Open("sqlite3", "file:"+s.File+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)")
	if err != nil {
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("opening %s: %w", s.File, err)
	}
	if s.Schema != "" {
		if _, err := db.ExecContext(ctx, s.Schema); err != nil {
			db.Close()
			return fmt.Errorf("applying the schema to %s: %w", s.File, err)
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

// DBAccess is the context mixin of the SQLite extension; it belongs to
// it, so an app that embeds DBAccess without registering an SQLite fails
// to start, naming the mixin.
type DBAccess struct{ graft.MixinOf[*SQLite] }

// DB returns the database of the router the request was routed through,
// nil outside every router that registered the extension.
func (d *DBAccess) DB() *sql.DB { return DB.Get(d.Ctx()) }
