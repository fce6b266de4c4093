package brokertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
)

// HistoryHarness describes one history backend to [RunHistory]. A setup
// function starts a fresh backend for each case with the policies given
// and returns its HistoryHarness; the backend is shut down when the case's
// test ends.
type HistoryHarness struct {
	// New returns a History on the backend. Each call may return a new
	// client of the same server (as another node would use); for a
	// backend without a server it returns the same store.
	New func(t testing.TB) broker.History

	// Restart, if set, kills the backend's server (or the process's
	// store) and starts it again; New then returns Histories on the
	// restarted backend. Nil skips the restart case.
	Restart func(t testing.TB)
	// Durable reports that history survives Restart (same epoch, same
	// publications); otherwise every stream's epoch must change.
	Durable bool
}

// HistoryPolicies are the rules every conformance case runs with: topics
// under "h." keep 100, under "small." 3, under "ttl." live 300 ms, and
// nothing else keeps history.
var HistoryPolicies = broker.HistoryPolicies{
	{Pattern: "small.*", HistoryPolicy: broker.HistoryPolicy{Size: 3}},
	{Pattern: "ttl.*", HistoryPolicy: broker.HistoryPolicy{Size: 100, TTL: 300 * time.Millisecond}},
	{Pattern: "h.*", HistoryPolicy: broker.HistoryPolicy{Size: 1000}},
}

// RunHistory runs the history conformance cases as subtests of t: offsets
// from 1 in order, topics independent, limits, size and TTL trimming
// reported as unrecoverable, a foreign epoch refused, topics without a
// policy refused, concurrent appends from several clients each getting a
// distinct offset, and a restart that either keeps history (Durable) or
// changes the epoch.
func RunHistory(t *testing.T, setup func(t testing.TB, p broker.HistoryPolicies) HistoryHarness) {
	cases := []struct {
		name string
		run  func(*testing.T, HistoryHarness)
	}{
		{"OffsetsInOrder", testHistoryOffsets},
		{"TopicsIndependent", testHistoryTopics},
		{"SizeTrims", testHistorySize},
		{"TTLTrims", testHistoryTTL},
		{"ForeignPositions", testHistoryForeign},
		{"NoPolicy", testHistoryNoPolicy},
		{"ConcurrentAppends", testHistoryConcurrent},
		{"Restart", testHistoryRestart},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, setup(t, HistoryPolicies)) })
	}
}

func hctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustAppend(t testing.TB, h broker.History, topic, data string) broker.Position {
	t.Helper()
	p, err := h.Append(hctx(t), topic, []byte(data))
	if err != nil {
		t.Fatalf("Append(%q): %v", topic, err)
	}
	return p
}

func mustPosition(t testing.TB, h broker.History, topic string) broker.Position {
	t.Helper()
	p, err := h.Position(hctx(t), topic)
	if err != nil {
		t.Fatalf("Position(%q): %v", topic, err)
	}
	if p.Epoch == "" {
		t.Fatalf("Position(%q) has an empty epoch", topic)
	}
	return p
}

// wantSince checks that Since(pos, limit) returns exactly the data given,
// with consecutive offsets after pos.Offset, and top as the top.
func wantSince(t testing.TB, h broker.History, topic string, pos broker.Position, limit int, top broker.Position, data ...string) {
	t.Helper()
	pubs, got, err := h.Since(hctx(t), topic, pos, limit)
	if err != nil {
		t.Fatalf("Since(%q, %+v, %d): %v", topic, pos, limit, err)
	}
	if got != top {
		t.Errorf("Since(%q, %+v, %d) top = %+v, want %+v", topic, pos, limit, got, top)
	}
	var gotData []string
	for i, p := range pubs {
		gotData = append(gotData, string(p.Data))
		if want := pos.Offset + uint64(i) + 1; p.Offset != want {
			t.Errorf("Since(%q, %+v): publication %d has offset %d, want %d", topic, pos, i, p.Offset, want)
		}
		if p.Time.IsZero() || time.Since(p.Time) > time.Hour || time.Until(p.Time) > time.Hour {
			t.Errorf("Since(%q): publication %d has time %v, not about now", topic, p.Offset, p.Time)
		}
	}
	if !slices.Equal(gotData, data) {
		t.Fatalf("Since(%q, %+v, %d) data = %q, want %q", topic, pos, limit, gotData, data)
	}
}

// wantUnrecoverable checks that Since(pos) fails with reason and top.
func wantUnrecoverable(t testing.TB, h broker.History, topic string, pos broker.Position, reason string, top broker.Position) {
	t.Helper()
	pubs, got, err := h.Since(hctx(t), topic, pos, 0)
	var ue *broker.UnrecoverableError
	if !errors.Is(err, broker.ErrUnrecoverable) || !errors.As(err, &ue) {
		t.Fatalf("Since(%q, %+v) = %d publications, %v; want an UnrecoverableError (%s)", topic, pos, len(pubs), err, reason)
	}
	if ue.Reason != reason || ue.Topic != topic || ue.Current != top || got != top {
		t.Fatalf("Since(%q, %+v): %+v, top %+v; want reason %q and top %+v", topic, pos, ue, got, reason, top)
	}
	if pubs != nil {
		t.Fatalf("Since(%q, %+v) failed but returned %d publications", topic, pos, len(pubs))
	}
}

func testHistoryOffsets(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	start := mustPosition(t, h, "h.a")
	if start.Offset != 0 {
		t.Fatalf("fresh topic at offset %d, want 0", start.Offset)
	}
	if again := mustPosition(t, h, "h.a"); again != start {
		t.Fatalf("Position changed without an append: %+v then %+v", start, again)
	}
	for i := 1; i <= 5; i++ {
		p := mustAppend(t, h, "h.a", "m"+strconv.Itoa(i))
		if p != (broker.Position{Offset: uint64(i), Epoch: start.Epoch}) {
			t.Fatalf("append %d returned %+v, want offset %d epoch %s", i, p, i, start.Epoch)
		}
	}
	top := broker.Position{Offset: 5, Epoch: start.Epoch}
	if p := mustPosition(t, h, "h.a"); p != top {
		t.Fatalf("Position after 5 appends = %+v, want %+v", p, top)
	}
	wantSince(t, h, "h.a", start, 0, top, "m1", "m2", "m3", "m4", "m5")
	wantSince(t, h, "h.a", broker.Position{Offset: 3, Epoch: start.Epoch}, 0, top, "m4", "m5")
	wantSince(t, h, "h.a", top, 0, top)
	wantSince(t, h, "h.a", start, 2, top, "m1", "m2")
	wantSince(t, h, "h.a", broker.Position{Offset: 2, Epoch: start.Epoch}, 2, top, "m3", "m4")
	// Another client of the same backend sees the same stream.
	h2 := hh.New(t)
	wantSince(t, h2, "h.a", broker.Position{Offset: 4, Epoch: start.Epoch}, 0, top, "m5")
}

func testHistoryTopics(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	// Topics of unusual bytes, one a prefix of the other, stay apart.
	topics := []string{"h.room 1", "h.room 1.x", "h.é/\x00*>"}
	for round := 1; round <= 3; round++ {
		for i, topic := range topics[:len(topics)-round+1] {
			if p := mustAppend(t, h, topic, fmt.Sprintf("%d-%d", i, round)); p.Offset != uint64(round) {
				t.Fatalf("append %d on %q got offset %d", round, topic, p.Offset)
			}
		}
	}
	for i, topic := range topics {
		top := mustPosition(t, h, topic)
		var want []string
		for round := 1; round <= len(topics)-i; round++ {
			want = append(want, fmt.Sprintf("%d-%d", i, round))
		}
		wantSince(t, h, topic, broker.Position{Epoch: top.Epoch}, 0, top, want...)
	}
}

func testHistorySize(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	e := mustPosition(t, h, "small.x").Epoch
	for i := 1; i <= 5; i++ {
		mustAppend(t, h, "small.x", "m"+strconv.Itoa(i))
	}
	top := broker.Position{Offset: 5, Epoch: e}
	wantSince(t, h, "small.x", broker.Position{Offset: 2, Epoch: e}, 0, top, "m3", "m4", "m5")
	wantUnrecoverable(t, h, "small.x", broker.Position{Offset: 1, Epoch: e}, broker.ReasonTrimmed, top)
	wantUnrecoverable(t, h, "small.x", broker.Position{Offset: 0, Epoch: e}, broker.ReasonTrimmed, top)
	// Recovery from the top still works after trimming.
	wantSince(t, h, "small.x", top, 0, top)
}

func testHistoryTTL(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	e := mustPosition(t, h, "ttl.x").Epoch
	mustAppend(t, h, "ttl.x", "old")
	top := broker.Position{Offset: 1, Epoch: e}
	wantSince(t, h, "ttl.x", broker.Position{Epoch: e}, 0, top, "old")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, err := h.Since(hctx(t), "ttl.x", broker.Position{Epoch: e}, 0)
		if errors.Is(err, broker.ErrUnrecoverable) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("publication with a 300 ms TTL still recoverable after 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantUnrecoverable(t, h, "ttl.x", broker.Position{Epoch: e}, broker.ReasonTrimmed, top)
	// The stream's offset and epoch outlive its expired publications: a
	// client that saw everything has missed nothing.
	if p := mustPosition(t, h, "ttl.x"); p != top {
		t.Fatalf("Position after expiry = %+v, want %+v", p, top)
	}
	wantSince(t, h, "ttl.x", top, 0, top)
	if p := mustAppend(t, h, "ttl.x", "new"); p != (broker.Position{Offset: 2, Epoch: e}) {
		t.Fatalf("append after expiry = %+v, want offset 2 epoch %s", p, e)
	}
	wantSince(t, h, "ttl.x", top, 0, broker.Position{Offset: 2, Epoch: e}, "new")
}

func testHistoryForeign(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	mustAppend(t, h, "h.f", "a")
	top := mustPosition(t, h, "h.f")
	wantUnrecoverable(t, h, "h.f", broker.Position{Offset: 0, Epoch: "not-" + top.Epoch}, broker.ReasonEpoch, top)
	wantUnrecoverable(t, h, "h.f", broker.Position{Offset: 1}, broker.ReasonEpoch, top)
	wantUnrecoverable(t, h, "h.f", broker.Position{Offset: 2, Epoch: top.Epoch}, broker.ReasonAhead, top)
}

func testHistoryNoPolicy(t *testing.T, hh HistoryHarness) {
	h := hh.New(t)
	if _, err := h.Append(hctx(t), "nohist", []byte("x")); !errors.Is(err, broker.ErrNoHistory) {
		t.Fatalf("Append on a topic without a policy: %v, want ErrNoHistory", err)
	}
	if _, err := h.Position(hctx(t), "nohist"); !errors.Is(err, broker.ErrNoHistory) {
		t.Fatalf("Position on a topic without a policy: %v, want ErrNoHistory", err)
	}
	if _, _, err := h.Since(hctx(t), "nohist", broker.Position{}, 0); !errors.Is(err, broker.ErrNoHistory) {
		t.Fatalf("Since on a topic without a policy: %v, want ErrNoHistory", err)
	}
}

func testHistoryConcurrent(t *testing.T, hh HistoryHarness) {
	const writers, each = 4, 50
	e := mustPosition(t, hh.New(t), "h.c").Epoch
	var mu sync.Mutex
	byOffset := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range writers {
		h := hh.New(t) // a client per writer, as separate nodes would be
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf("w%d-%d", w, i)
				p, err := h.Append(hctx(t), "h.c", []byte(data))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := byOffset[p.Offset]; dup || p.Epoch != e {
					t.Errorf("append %s got %+v; offset already taken by %q, or epoch is not %s", data, p, prev, e)
				}
				byOffset[p.Offset] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := make([]string, 0, writers*each)
	for off := uint64(1); off <= writers*each; off++ {
		d, ok := byOffset[off]
		if !ok {
			t.Fatalf("no append got offset %d", off)
		}
		want = append(want, d)
	}
	wantSince(t, hh.New(t), "h.c", broker.Position{Epoch: e}, 0, broker.Position{Offset: writers * each, Epoch: e}, want...)
}

func testHistoryRestart(t *testing.T, hh HistoryHarness) {
	if hh.Restart == nil {
		t.Skip("backend cannot be restarted")
	}
	h := hh.New(t)
	e := mustPosition(t, h, "h.r").Epoch
	for _, d := range []string{"a", "b", "c"} {
		mustAppend(t, h, "h.r", d)
	}
	seen := broker.Position{Offset: 1, Epoch: e}
	hh.Restart(t)
	h = hh.New(t)
	top := mustPosition(t, h, "h.r")
	if hh.Durable {
		if top != (broker.Position{Offset: 3, Epoch: e}) {
			t.Fatalf("durable backend after restart at %+v, want offset 3 epoch %s", top, e)
		}
		wantSince(t, h, "h.r", seen, 0, top, "b", "c")
		if p := mustAppend(t, h, "h.r", "d"); p.Offset != 4 || p.Epoch != e {
			t.Fatalf("append after restart = %+v, want offset 4 epoch %s", p, e)
		}
		return
	}
	if top.Epoch == e {
		t.Fatalf("history was lost in the restart but the epoch %s stayed", e)
	}
	wantUnrecoverable(t, h, "h.r", seen, broker.ReasonEpoch, top)
	p := mustAppend(t, h, "h.r", "d")
	if p.Epoch != top.Epoch || p.Offset != top.Offset+1 {
		t.Fatalf("append after restart = %+v, want offset %d epoch %s", p, top.Offset+1, top.Epoch)
	}
	wantSince(t, h, "h.r", top, 0, p, "d")
}

// BenchHistoryAppend measures Append of 128-byte publications on one topic
// of the "h.*" policy (1000 kept). setup is as for [RunHistory].
func BenchHistoryAppend(b *testing.B, setup func(t testing.TB, p broker.HistoryPolicies) HistoryHarness) {
	h := setup(b, HistoryPolicies).New(b)
	data := make([]byte, 128)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Append(ctx, "h.bench", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchHistorySince measures one Since returning 1000 missed 128-byte
// publications, a reconnecting client's recovery. setup is as for
// [RunHistory].
func BenchHistorySince(b *testing.B, setup func(t testing.TB, p broker.HistoryPolicies) HistoryHarness) {
	h := setup(b, HistoryPolicies).New(b)
	ctx := b.Context()
	start, err := h.Position(ctx, "h.bench")
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 128)
	for range 1000 {
		if _, err := h.Append(ctx, "h.bench", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		pubs, _, err := h.Since(ctx, "h.bench", start, 0)
		if err != nil || len(pubs) != 1000 {
			b.Fatalf("Since: %d publications, %v; want 1000", len(pubs), err)
		}
	}
}
