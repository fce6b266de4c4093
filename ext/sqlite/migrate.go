package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"
)

// MigrationsTable is the table that records applied migrations: name,
// the SHA-256 of the file, and when it was applied.
const MigrationsTable = "graft_migrations"

// Migrate applies the *.sql files at the root of migrations that the
// database has not recorded yet, in the order of their names, and returns
// the names it applied. Each file runs in its own transaction that holds
// the write lock (BEGIN IMMEDIATE) from the check to the record, so two
// processes starting at once apply a file once; a failing file is rolled
// back and named in the error, and the files after it are not tried.
//
// A recorded file whose content changed since it was applied is an error
// (naming it): migrations are history, add a new file instead.
func Migrate(ctx context.Context, db *sql.DB, migrations fs.FS) ([]string, error) {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+MigrationsTable+` (
		name TEXT PRIMARY KEY,
		sha256 TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return nil, fmt.Errorf("creating %s: %w", MigrationsTable, err)
	}
	var applied []string
	for _, name := range names {
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		ok, err := applyOne(ctx, conn, path.Base(name), string(body), hex.EncodeToString(sum[:]))
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		if ok {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// applyOne runs one migration unless it is recorded, reporting whether it
// ran.
func applyOne(ctx context.Context, conn *sql.Conn, name, body, sum string) (ran bool, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var recorded string
	switch err := conn.QueryRowContext(ctx, `SELECT sha256 FROM `+MigrationsTable+` WHERE name = ?`, name).Scan(&recorded); err {
	case nil:
		if recorded != sum {
			return false, fmt.Errorf("changed after it was applied (recorded sha256 %s, file %s); add a new migration instead", recorded[:12], sum[:12])
		}
		_, err := conn.ExecContext(ctx, "COMMIT")
		return false, err
	case sql.ErrNoRows:
	default:
		return false, err
	}
	if _, err := conn.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO `+MigrationsTable+` (name, sha256, applied_at) VALUES (?, ?, ?)`,
		name, sum, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, err
	}
	return true, nil
}
