package broker

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const base, max = 100 * time.Millisecond, 5 * time.Second
	for _, c := range []struct {
		n    int
		want time.Duration // the delay before jitter
	}{
		{-3, base},
		{0, base},
		{1, base},
		{2, 2 * base},
		{3, 4 * base},
		{6, 32 * base},
		{7, max}, // 6.4 s capped
		{31, max},
		{32, max},
		{64, max}, // the shift would overflow
		{1 << 30, max},
	} {
		for range 200 {
			got := Backoff(c.n, base, max)
			if got < c.want/2 || got > c.want {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", c.n, got, c.want/2, c.want)
			}
		}
	}
}

func TestBackoffJitters(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[Backoff(3, time.Second, time.Minute)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("%d distinct delays in 100 draws; want jitter", len(seen))
	}
}

func TestBackoffEdges(t *testing.T) {
	// max below base: base is the cap.
	if d := Backoff(5, time.Second, time.Millisecond); d < time.Second/2 || d > time.Second {
		t.Errorf("max < base: %v", d)
	}
	if d := Backoff(1, 0, 0); d != 0 {
		t.Errorf("zero durations: %v", d)
	}
	if d := Backoff(1, 1, 1); d != 1 && d != 0 {
		t.Errorf("1ns: %v", d)
	}
}

func TestLifecycle(t *testing.T) {
	var l Lifecycle
	if l.Closed() {
		t.Fatal("new Lifecycle closed")
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	l.StartFailed()
	if err := l.Start(); err != nil {
		t.Fatalf("Start after a failed Start: %v", err)
	}
	if !l.Close() {
		t.Fatal("first Close reported closed")
	}
	if l.Close() {
		t.Fatal("second Close did not report closed")
	}
	if !l.Closed() {
		t.Fatal("not Closed after Close")
	}
	if err := l.Start(); err != ErrClosed {
		t.Fatalf("Start after Close: %v", err)
	}
	var never Lifecycle
	never.Close()
	if err := never.Start(); err != ErrClosed {
		t.Fatalf("Start after Close, never started: %v", err)
	}
}
