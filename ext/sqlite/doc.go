// Package sqlite is graft's router-level database extension (webpp's
// `router.sqlite`): an SQLite database through database/sql, on the
// ncruces/go-sqlite3 driver (SQLite compiled to WebAssembly, no cgo),
// opened at start, migrated, published to its scope and closed at stop.
//
//	//go:embed migrations/*.sql
//	var files embed.FS
//
//	sub, _ := fs.Sub(files, "migrations")
//	app.Register(sqlite.Extension(sqlite.Options{
//		Config:     sqlite.Config{File: "app.db"}, // or [sqlite] file = … in the config
//		Migrations: sub,
//	}))
//
//	type Ctx struct {
//		graft.Ctx
//		sqlite.Access // c.DB()
//	}
//
// Every connection runs in WAL mode with a busy timeout (5s unless set),
// and transactions begin with BEGIN IMMEDIATE, so concurrent writers wait
// for each other instead of failing. Migrations are the *.sql files at the
// root of an fs.FS, applied once each in name order and recorded, with
// their SHA-256, in the graft_migrations table; Migrate runs them on any
// *sql.DB.
//
// The settings are the [sqlite] section of the app's config (sqlite.file,
// sqlite.busy-timeout, sqlite.max-open-conns, sqlite.foreign-keys; env
// GRAFT_SQLITE_*, flags --sqlite.*), over the values given in code. The
// database is the scope value sqlite.DB: handlers, mixins, middleware and
// plugins of the scope read it with sqlite.DB.Get(c), allocation-free. A
// group registering its own SQLite (with Options.Name) shadows the app's
// for its routes.
//
// This package is a nested module, github.com/graftgo/graft/ext/sqlite, so
// that the core module does not depend on the driver.
package sqlite
