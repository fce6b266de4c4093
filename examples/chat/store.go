package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// store is the chat's data in SQLite: users, rooms, messages and the
// token signing key. Every node of a cluster opens the same file.
type store struct{ db *sql.DB }

var errTaken = errors.New("username taken")

// createUser stores a user with its password hash; errTaken when the name
// exists.
func (s store) createUser(ctx context.Context, name, hash string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (name, hash, created) VALUES (?, ?, ?)`, name, hash, now())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return errTaken
	}
	return err
}

// userHash returns a user's password hash; sql.ErrNoRows when unknown.
func (s store) userHash(ctx context.Context, name string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM users WHERE name = ?`, name).Scan(&h)
	return h, err
}

func (s store) userExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, name).Scan(&n)
	return n > 0, err
}

// ensureRoom records a room the first time someone joins it.
func (s store) ensureRoom(ctx context.Context, room string) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO rooms (name, created) VALUES (?, ?)`, room, now())
	return err
}

func (s store) rooms(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM rooms ORDER BY name LIMIT 1000`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Message is a stored room message, as GET /rooms/{room}/messages lists
// it and as the WebSocket delivers it (with "type" and "offset").
type Message struct {
	ID   int64  `json:"id" doc:"the message's id, increasing in a room" example:"42"`
	Room string `json:"room" example:"lobby"`
	From string `json:"from" example:"alice"`
	Text string `json:"text" example:"hi"`
	TS   string `json:"ts" format:"date-time" doc:"when the server stored it, RFC 3339" example:"2026-12-01T12:00:00Z"`
}

// addMessage stores a message and returns it with its id and time.
func (s store) addMessage(ctx context.Context, room, from, text string) (Message, error) {
	m := Message{Room: room, From: from, Text: text, TS: now()}
	res, err := s.db.ExecContext(ctx, `INSERT INTO messages (room, sender, text, ts) VALUES (?, ?, ?, ?)`, room, from, text, m.TS)
	if err != nil {
		return Message{}, err
	}
	m.ID, err = res.LastInsertId()
	return m, err
}

// messages returns up to limit messages of room with an id below before
// (0: the latest), oldest first.
func (s store) messages(ctx context.Context, room string, limit int, before int64) ([]Message, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, room, sender, text, ts FROM
		(SELECT * FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id`, room, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Room, &m.From, &m.Text, &m.TS); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// signingKey returns the token signing key kept in the database, making
// one the first time: every node on the same database signs alike.
func (s store) signingKey(ctx context.Context) ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO settings (key, value) VALUES ('jwt-key', ?)`, k); err != nil {
		return nil, err
	}
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'jwt-key'`).Scan(&k)
	return k, err
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }
