package idempotency

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Fingerprint is the SHA-256 digest of what makes a request the same
// request: its method, path and query, its body and the headers of
// Config.FingerprintHeaders. A key sent again with another fingerprint is
// a key reused for another payload (422).
type Fingerprint [32]byte

// State is what Store.Begin found under a key.
type State uint8

// The states of an entry.
const (
	// Claimed: the key was free; the caller now holds it (in flight) and
	// must Complete or Release it.
	Claimed State = iota + 1
	// InFlight: another request holds the key and has not answered yet.
	InFlight
	// Done: the key has a stored answer.
	Done
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InFlight:
		return "in flight"
	case Done:
		return "done"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Entry is what Store.Begin found under a key.
type Entry struct {
	// State says whether the caller claimed the key, another request
	// holds it, or an answer is stored.
	State State
	// Fingerprint is the fingerprint of the request that holds the key or
	// whose answer is stored (InFlight, Done).
	Fingerprint Fingerprint
	// Answer is the stored answer (Done). It is shared: read it, never
	// change it.
	Answer *Answer
}

// Answer is a stored answer: replayed byte for byte on a retry.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Header holds the stored response headers (see the package
	// documentation for those that are not stored).
	Header http.Header
	// Body is the whole response body.
	Body []byte
}

// Store keeps the idempotency entries of every key: an in-flight lock
// while the first request runs, then its stored answer. Begin, Complete
// and Release must be atomic per key and safe for concurrent use; a store
// shared by several nodes (the Redis store, module
// github.com/graftgo/graft/plugins/idempotency/redis) gives every node the
// same view of a key.
type Store interface {
	// Begin claims key when it is free (no entry, or an expired one): it
	// records an in-flight entry holding fp and token that expires after
	// lockTTL, and returns State Claimed. When the key has an entry it
	// changes nothing and returns what it found (InFlight, or Done with
	// the answer).
	Begin(ctx context.Context, key string, fp Fingerprint, token string, lockTTL time.Duration) (Entry, error)
	// Complete replaces the in-flight entry of key that token holds with
	// a, kept for ttl. If the entry is gone or another token holds it
	// (the lock expired), it stores nothing and returns ErrLockLost.
	Complete(ctx context.Context, key, token string, a *Answer, ttl time.Duration) error
	// Release removes the in-flight entry of key if token holds it, so
	// that a retry runs the handler again.
	Release(ctx context.Context, key, token string) error
}

// ErrLockLost is Complete's error when the caller's in-flight entry
// expired (or was evicted) before the answer was stored.
var ErrLockLost = errors.New("idempotency: the in-flight entry expired before the answer was stored; raise Config.LockTTL above the endpoint's longest run")

// ErrStoreFull is the memory store's error when every entry it may hold
// is in flight: a new key cannot be claimed without breaking another
// request's lock (the plugin answers 503).
var ErrStoreFull = errors.New("idempotency: the memory store is full of in-flight requests; raise MemoryConfig.MaxEntries")

// MemoryConfig configures the memory store.
type MemoryConfig struct {
	// MaxEntries bounds the keys held, in flight or answered (10 000 when
	// zero).
	MaxEntries int
	// MaxBytes bounds the bytes of the stored answers (bodies, headers
	// and keys; 64 MiB when zero).
	MaxBytes int64
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// MemoryStore is the in-process store: a map under one mutex, bounded by
// MaxEntries and MaxBytes. Expired entries go first when room is needed;
// then the stored answer that expires soonest. An in-flight entry is never
// evicted before it expires: a full store of in-flight requests refuses a
// new key (ErrStoreFull). Entries are per process; use the Redis store
// for several nodes.
type MemoryStore struct {
	mu         sync.Mutex
	m          map[string]*memEntry
	locks      entryHeap // in flight, by expiry
	answers    entryHeap // stored answers, by expiry
	bytes      int64
	maxEntries int
	maxBytes   int64
	now        func() time.Time
}

type memEntry struct {
	key     string
	fp      Fingerprint
	token   string
	answer  *Answer // nil while in flight
	expires int64   // ns
	size    int64
	index   int // in its heap
}

// NewMemoryStore returns a memory store; a negative bound is an error.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	if cfg.MaxEntries < 0 {
		return nil, fmt.Errorf("MemoryConfig.MaxEntries is %d; give the keys to hold, or 0 for 10000", cfg.MaxEntries)
	}
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("MemoryConfig.MaxBytes is %d; give the bytes of answers to hold, or 0 for 64 MiB", cfg.MaxBytes)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 10_000
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 64 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryStore{m: make(map[string]*memEntry), maxEntries: cfg.MaxEntries, maxBytes: cfg.MaxBytes, now: cfg.Now}, nil
}

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key string, fp Fingerprint, token string, lockTTL time.Duration) (Entry, error) {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		if now < e.expires {
			if e.answer != nil {
				return Entry{State: Done, Fingerprint: e.fp, Answer: e.answer}, nil
			}
			return Entry{State: InFlight, Fingerprint: e.fp}, nil
		}
		s.remove(e)
	}
	s.dropExpired(now)
	if len(s.m) >= s.maxEntries {
		if s.answers.Len() == 0 {
			return Entry{}, ErrStoreFull
		}
		s.remove(s.answers[0])
	}
	e := &memEntry{key: key, fp: fp, token: token, expires: now + int64(lockTTL)}
	s.m[key] = e
	heap.Push(&s.locks, e)
	return Entry{State: Claimed}, nil
}

// Complete implements Store. An answer larger than MaxBytes by itself is
// not stored (an error); the key is released.
func (s *MemoryStore) Complete(_ context.Context, key, token string, a *Answer, ttl time.Duration) error {
	now := s.now().UnixNano()
	size := answerSize(key, a)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || e.answer != nil || e.token != token || now >= e.expires {
		return ErrLockLost
	}
	heap.Remove(&s.locks, e.index)
	if size > s.maxBytes {
		delete(s.m, key)
		return fmt.Errorf("idempotency: an answer of %d bytes exceeds the memory store's MaxBytes (%d); not stored", size, s.maxBytes)
	}
	e.answer, e.expires, e.size, e.token = a, now+int64(ttl), size, ""
	s.dropExpired(now)
	for s.bytes+size > s.maxBytes && s.answers.Len() > 0 {
		s.remove(s.answers[0])
	}
	s.bytes += size
	heap.Push(&s.answers, e)
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok && e.answer == nil && e.token == token {
		s.remove(e)
	}
	return nil
}

// Len returns the number of entries held, in flight or answered (expired
// ones not yet dropped included).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Bytes returns the bytes of the stored answers held.
func (s *MemoryStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

func (s *MemoryStore) remove(e *memEntry) {
	delete(s.m, e.key)
	if e.answer == nil {
		heap.Remove(&s.locks, e.index)
		return
	}
	heap.Remove(&s.answers, e.index)
	s.bytes -= e.size
}

// dropExpired removes the entries that expired by now, soonest first:
// each heap's top is its next to expire, so the work is the entries
// dropped.
func (s *MemoryStore) dropExpired(now int64) {
	for s.locks.Len() > 0 && now >= s.locks[0].expires {
		s.remove(s.locks[0])
	}
	for s.answers.Len() > 0 && now >= s.answers[0].expires {
		s.remove(s.answers[0])
	}
}

// answerSize is what an answer costs the store: its key, body, headers
// and a fixed overhead for the entry.
func answerSize(key string, a *Answer) int64 {
	n := int64(len(key) + len(a.Body) + 128)
	for k, vs := range a.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
}

// entryHeap is a min-heap of entries by expiry (container/heap).
type entryHeap []*memEntry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// MarshalBinary encodes the answer for a store that keeps bytes (the
// Redis store): a version byte, the status, the headers and the body,
// lengths as uvarints.
func (a *Answer) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(nil)
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (a *Answer) AppendBinary(b []byte) ([]byte, error) {
	if a.Status < 100 || a.Status > 999 {
		return nil, fmt.Errorf("idempotency: answer status %d is not an HTTP status", a.Status)
	}
	b = append(b, answerVersion)
	b = binary.AppendUvarint(b, uint64(a.Status))
	b = binary.AppendUvarint(b, uint64(len(a.Header)))
	for k, vs := range a.Header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(a.Body)))
	return append(b, a.Body...), nil
}

const answerVersion = 1

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes what MarshalBinary encoded; a truncated or
// corrupt encoding is an error. Every length is checked against the
// bytes left, so a corrupt value cannot make it allocate more than b.
func (a *Answer) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if v := d.byte(); v != answerVersion && d.err == nil {
		return fmt.Errorf("idempotency: stored answer has encoding version %d, want %d", v, answerVersion)
	}
	status := d.uvarint()
	n := d.count(2)
	var h http.Header
	if n > 0 {
		h = make(http.Header, n)
	}
	for range n {
		k := d.string()
		m := d.count(1)
		if d.err != nil {
			break
		}
		vs := make([]string, m)
		for i := range vs {
			vs[i] = d.string()
		}
		h[k] = vs
	}
	bl := d.count(1)
	body := d.bytes(bl)
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err == nil && (status < 100 || status > 999) {
		d.err = fmt.Errorf("status %d", status)
	}
	if d.err != nil {
		return fmt.Errorf("idempotency: corrupt stored answer: %w", d.err)
	}
	a.Status, a.Header, a.Body = int(status), h, body
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errors.New("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad length")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length of items each at least min bytes long, checked
// against what is left.
func (d *decoder) count(min int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.b)/min) {
		d.err = errors.New("length past the end")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = errors.New("truncated")
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b)
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

var _ Store = (*MemoryStore)(nil)
