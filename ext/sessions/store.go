package sessions

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"maps"
	"sync"
	"time"
)

// A Store keeps sessions. The extension calls it from request goroutines,
// concurrently: implementations are safe for concurrent use.
//
// The values of a session are strings keyed by strings. Writes are per-key
// changes, not whole values: Save applies the changes of one request to
// what the store holds at that moment, atomically, so two requests of one
// session that change different keys at the same time both keep their
// change (the last write of one key wins). Server stores (memory, SQLite,
// Redis) keep that promise; the cookie store cannot (see CookieStore).
type Store interface {
	// Load returns the values of session id; ok is false when the store
	// does not know id or the session expired.
	Load(ctx context.Context, id string) (values map[string]string, ok bool, err error)
	// Save applies ch to session id, or to a new session when id is "",
	// and makes it expire ttl from now. It returns the session's id from
	// now on: the value of its cookie (a server store returns id, or a
	// fresh NewID for a new session).
	Save(ctx context.Context, id string, ch Changes, ttl time.Duration) (string, error)
	// Delete removes session id; an unknown id is not an error.
	Delete(ctx context.Context, id string) error
}

// Changes are the writes one request made to its session.
type Changes struct {
	// Set holds the keys set and their new values.
	Set map[string]string
	// Del holds the keys deleted.
	Del []string
}

// Empty reports whether ch changes nothing.
func (ch Changes) Empty() bool { return len(ch.Set) == 0 && len(ch.Del) == 0 }

// Apply applies ch to values, the helper of stores that hold whole maps.
func (ch Changes) Apply(values map[string]string) {
	for _, k := range ch.Del {
		delete(values, k)
	}
	maps.Copy(values, ch.Set)
}

// NewID returns a fresh session id: 256 random bits, base64url (43
// characters).
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ErrStore wraps errors of a store, for errors.Is.
var ErrStore = errors.New("sessions: store")

// MemoryStore keeps sessions in the process's memory: for tests and
// single-node apps whose sessions may be lost at restart. Expired sessions
// are dropped when read and by a sweep every 1024 saves (no goroutine).
type MemoryStore struct {
	// Now is the store's clock; nil means time.Now. Tests move it to
	// expire sessions.
	Now func() time.Time

	mu    sync.Mutex
	m     map[string]*memSession
	saves int
}

type memSession struct {
	values  map[string]string
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{m: map[string]*memSession{}}
}

func (s *MemoryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load implements Store.
func (s *MemoryStore) Load(_ context.Context, id string) (map[string]string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms, ok := s.m[id]
	if !ok {
		return nil, false, nil
	}
	if !s.now().Before(ms.expires) {
		delete(s.m, id)
		return nil, false, nil
	}
	return maps.Clone(ms.values), true, nil
}

// Save implements Store.
func (s *MemoryStore) Save(_ context.Context, id string, ch Changes, ttl time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if id == "" {
		id = NewID()
	}
	ms, ok := s.m[id]
	if !ok || !now.Before(ms.expires) {
		ms = &memSession{values: map[string]string{}}
		s.m[id] = ms
	}
	ch.Apply(ms.values)
	ms.expires = now.Add(ttl)
	if s.saves++; s.saves%1024 == 0 {
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
	}
	return id, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// Len returns the number of sessions held, expired ones not yet swept
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
