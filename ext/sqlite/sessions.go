package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft/ext/sessions"
)

// sessionsSchema holds the session store's tables: one row per session
// with its expiry (Unix milliseconds), one row per value, so that a save
// writes only the keys a request changed.
const sessionsSchema = `
CREATE TABLE IF NOT EXISTS graft_sessions (
	id TEXT PRIMARY KEY,
	expires INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS graft_sessions_expires ON graft_sessions (expires);
CREATE TABLE IF NOT EXISTS graft_session_values (
	id TEXT NOT NULL REFERENCES graft_sessions (id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (id, key)
) STRICT, WITHOUT ROWID;`

// SessionStore is a sessions.Store in an SQLite database: a row per
// session and a row per value. Each save is one transaction (BEGIN
// IMMEDIATE with the extension's connections) that upserts the keys the
// request set and deletes those it deleted, so concurrent requests of one
// session that change different keys all keep their writes. Expired
// sessions are invisible at once and deleted by a sweep every 256 saves.
type SessionStore struct {
	db    func() *sql.DB
	saves atomic.Int64
}

// NewSessionStore returns a session store over db, creating its tables
// (graft_sessions, graft_session_values) when missing. Give db the
// busy timeout and _txlock=immediate, as the extension does, so
// concurrent saves wait for each other.
func NewSessionStore(ctx context.Context, db *sql.DB) (*SessionStore, error) {
	if _, err := db.ExecContext(ctx, sessionsSchema); err != nil {
		return nil, err
	}
	return &SessionStore{db: func() *sql.DB { return db }}, nil
}

// SessionStore returns a session store in the extension's database, for
// sessions.Options.Store; its tables are created at Start, after the
// migrations. It may be called before Start (the database is reached on
// each call).
func (s *SQLite) SessionStore() *SessionStore {
	if s.sessions == nil {
		s.sessions = &SessionStore{db: s.DB}
	}
	return s.sessions
}

var errNotStarted = errors.New("sqlite: the session store's database is not open (the app is not started, or stopped)")

func (st *SessionStore) conn() (*sql.DB, error) {
	if db := st.db(); db != nil {
		return db, nil
	}
	return nil, errNotStarted
}

// Load implements sessions.Store.
func (st *SessionStore) Load(ctx context.Context, id string) (map[string]string, bool, error) {
	db, err := st.conn()
	if err != nil {
		return nil, false, err
	}
	now := time.Now().UnixMilli()
	rows, err := db.QueryContext(ctx, `SELECT v.key, v.value FROM graft_sessions s
		LEFT JOIN graft_session_values v ON v.id = s.id
		WHERE s.id = ? AND s.expires > ?`, id, now)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var values map[string]string
	for rows.Next() {
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, false, err
		}
		if values == nil {
			values = map[string]string{}
		}
		if k.Valid {
			values[k.String] = v.String
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return values, values != nil, nil
}

// Save implements sessions.Store.
func (st *SessionStore) Save(ctx context.Context, id string, ch sessions.Changes, ttl time.Duration) (_ string, err error) {
	db, err := st.conn()
	if err != nil {
		return "", err
	}
	if id == "" {
		id = sessions.NewID()
	}
	now := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// a session that expired is started afresh: its old values must not
	// come back with the new expiry
	if _, err = tx.ExecContext(ctx, `DELETE FROM graft_session_values WHERE id = ?
		AND EXISTS (SELECT 1 FROM graft_sessions WHERE id = ? AND expires <= ?)`, id, id, now.UnixMilli()); err != nil {
		return "", err
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO graft_sessions (id, expires) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires = excluded.expires`, id, now.Add(ttl).UnixMilli()); err != nil {
		return "", err
	}
	for _, k := range ch.Del {
		if _, err = tx.ExecContext(ctx, `DELETE FROM graft_session_values WHERE id = ? AND key = ?`, id, k); err != nil {
			return "", err
		}
	}
	for k, v := range ch.Set {
		if _, err = tx.ExecContext(ctx, `INSERT INTO graft_session_values (id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (id, key) DO UPDATE SET value = excluded.value`, id, k, v); err != nil {
			return "", err
		}
	}
	if st.saves.Add(1)%256 == 0 {
		if _, err = tx.ExecContext(ctx, `DELETE FROM graft_session_values WHERE id IN (SELECT id FROM graft_sessions WHERE expires <= ?)`, now.UnixMilli()); err != nil {
			return "", err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM graft_sessions WHERE expires <= ?`, now.UnixMilli()); err != nil {
			return "", err
		}
	}
	if err = tx.Commit(); err != nil {
		return "", err
	}
	return id, nil
}

// Delete implements sessions.Store.
func (st *SessionStore) Delete(ctx context.Context, id string) (err error) {
	db, err := st.conn()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, `DELETE FROM graft_session_values WHERE id = ?`, id); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM graft_sessions WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Commit()
}
