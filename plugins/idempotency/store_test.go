package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/idempotency"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func memStore(t *testing.T, cfg idempotency.MemoryConfig) (*idempotency.MemoryStore, *clock) {
	t.Helper()
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	cfg.Now = c.Now
	s, err := idempotency.NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

var ctx = context.Background()

func answer(body string) *idempotency.Answer {
	return &idempotency.Answer{Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func mustBegin(t *testing.T, s idempotency.Store, key string, fp idempotency.Fingerprint, token string, ttl time.Duration, want idempotency.State) idempotency.Entry {
	t.Helper()
	e, err := s.Begin(ctx, key, fp, token, ttl)
	if err != nil {
		t.Fatalf("Begin(%q): %v", key, err)
	}
	if e.State != want {
		t.Fatalf("Begin(%q): state %v, want %v", key, e.State, want)
	}
	return e
}

func TestMemoryStoreLifecycle(t *testing.T) {
	s, c := memStore(t, idempotency.MemoryConfig{})
	fp := idempotency.Fingerprint{1}
	mustBegin(t, s, "k", fp, "t1", time.Minute, idempotency.Claimed)
	e := mustBegin(t, s, "k", idempotency.Fingerprint{2}, "t2", time.Minute, idempotency.InFlight)
	if e.Fingerprint != fp {
		t.Fatalf("in-flight fingerprint %x, want the holder's", e.Fingerprint)
	}
	// Another token neither completes nor releases the key.
	if err := s.Complete(ctx, "k", "t2", answer("x"), time.Hour); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("Complete with another token: %v, want ErrLockLost", err)
	}
	s.Release(ctx, "k", "t2")
	mustBegin(t, s, "k", fp, "t3", time.Minute, idempotency.InFlight)
	if err := s.Complete(ctx, "k", "t1", answer("done"), time.Hour); err != nil {
		t.Fatal(err)
	}
	e = mustBegin(t, s, "k", fp, "t4", time.Minute, idempotency.Done)
	if string(e.Answer.Body) != "done" || e.Fingerprint != fp {
		t.Fatalf("stored %+v", e)
	}
	// Release of a stored answer changes nothing.
	s.Release(ctx, "k", "t1")
	mustBegin(t, s, "k", fp, "t5", time.Minute, idempotency.Done)
	// Expiry: the answer after TTL, a lock after LockTTL.
	c.advance(time.Hour)
	mustBegin(t, s, "k", fp, "t6", time.Minute, idempotency.Claimed)
	c.advance(time.Minute - time.Nanosecond)
	mustBegin(t, s, "k", fp, "t7", time.Minute, idempotency.InFlight)
	c.advance(time.Nanosecond)
	mustBegin(t, s, "k", fp, "t8", time.Minute, idempotency.Claimed)
	// The expired holder cannot complete any more.
	if err := s.Complete(ctx, "k", "t6", answer("late"), time.Hour); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("Complete by an expired holder: %v, want ErrLockLost", err)
	}
	s.Release(ctx, "k", "t8")
	if s.Len() != 0 {
		t.Fatalf("Len %d after release, want 0", s.Len())
	}
}

// Full of answers, the one expiring soonest goes; full of locks, a new key
// is refused rather than another request's lock broken.
func TestMemoryStoreBounded(t *testing.T) {
	s, c := memStore(t, idempotency.MemoryConfig{MaxEntries: 3})
	for i := range 3 {
		k := fmt.Sprint("a", i)
		mustBegin(t, s, k, idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
		if err := s.Complete(ctx, k, "t", answer(k), time.Duration(3-i)*time.Hour); err != nil {
			t.Fatal(err)
		}
		c.advance(time.Second)
	}
	mustBegin(t, s, "b0", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
	// b0 evicted a2, the answer expiring soonest; a2 again evicts a1, b1 evicts a0.
	mustBegin(t, s, "a2", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
	mustBegin(t, s, "b1", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
	if _, err := s.Begin(ctx, "b2", idempotency.Fingerprint{}, "t", time.Minute); !errors.Is(err, idempotency.ErrStoreFull) {
		t.Fatalf("Begin on a store full of locks: %v, want ErrStoreFull", err)
	}
	mustBegin(t, s, "b0", idempotency.Fingerprint{}, "t", time.Minute, idempotency.InFlight)
	// Expired locks make room.
	c.advance(time.Minute)
	mustBegin(t, s, "b2", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
	if s.Len() != 1 {
		t.Fatalf("Len %d, want 1 (the three expired locks dropped)", s.Len())
	}

	// Bytes: 5000 answers of 1 KiB into 64 KiB.
	s, _ = memStore(t, idempotency.MemoryConfig{MaxBytes: 64 << 10})
	body := string(bytes.Repeat([]byte("x"), 1024))
	for i := range 5000 {
		k := fmt.Sprint("k", i)
		mustBegin(t, s, k, idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
		if err := s.Complete(ctx, k, "t", answer(body), time.Hour+time.Duration(i)); err != nil {
			t.Fatal(err)
		}
		if s.Bytes() > 64<<10 {
			t.Fatalf("after %d answers: %d bytes held, over 64 KiB", i+1, s.Bytes())
		}
	}
	if s.Len() < 40 || s.Len() > 64 {
		t.Fatalf("Len %d, want the newest answers that fit in 64 KiB", s.Len())
	}
	mustBegin(t, s, "k4999", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Done)
	mustBegin(t, s, "k0", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)
	// An answer larger than the store is refused and its key freed.
	if err := s.Complete(ctx, "k0", "t", answer(string(bytes.Repeat([]byte("y"), 70<<10))), time.Hour); err == nil {
		t.Fatal("Complete of an answer over MaxBytes: no error")
	}
	mustBegin(t, s, "k0", idempotency.Fingerprint{}, "t", time.Minute, idempotency.Claimed)

	if _, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: -1}); err == nil {
		t.Fatal("MaxEntries -1: no error")
	}
	if _, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxBytes: -1}); err == nil {
		t.Fatal("MaxBytes -1: no error")
	}
}

func TestAnswerEncoding(t *testing.T) {
	for _, a := range []*idempotency.Answer{
		{Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b", ""}}, Body: []byte(`{"id":1}`)},
		{Status: 204, Body: []byte{}},
		{Status: 404, Header: http.Header{}, Body: bytes.Repeat([]byte{0, 0xff}, 300)},
	} {
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got idempotency.Answer
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if len(a.Header) == 0 {
			a.Header = nil
		}
		if !reflect.DeepEqual(&got, a) {
			t.Fatalf("round trip: %+v, want %+v", got, a)
		}
		// Every truncation, and a byte more, is an error, never a panic.
		for i := range len(b) {
			if err := new(idempotency.Answer).UnmarshalBinary(b[:i]); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", i, len(b))
			}
		}
		if err := new(idempotency.Answer).UnmarshalBinary(append(b, 0)); err == nil {
			t.Fatal("a trailing byte: no error")
		}
	}
	if _, err := (&idempotency.Answer{Status: 42}).MarshalBinary(); err == nil {
		t.Fatal("status 42: no error")
	}
	// A huge length claims more than is there: an error, no allocation of it.
	if err := new(idempotency.Answer).UnmarshalBinary([]byte{1, 200, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Fatal("a body length past the end: no error")
	}
}

func FuzzAnswerUnmarshal(f *testing.F) {
	b, _ := answer("seed").MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var a idempotency.Answer
		if a.UnmarshalBinary(b) != nil {
			return
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", a, err)
		}
		var b2 idempotency.Answer
		if err := b2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(a, b2) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}
