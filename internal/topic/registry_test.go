package topic

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestSubscribeFirstAndLast(t *testing.T) {
	var r Registry[int]
	if !r.Subscribe(1, "chat") {
		t.Fatal("first subscriber of chat: first = false")
	}
	if r.Subscribe(2, "chat") {
		t.Fatal("second subscriber: first = true")
	}
	if r.Subscribe(2, "chat") {
		t.Fatal("duplicate subscribe: first = true")
	}
	if got := r.NumSubscribers("chat"); got != 2 {
		t.Fatalf("NumSubscribers = %d, want 2", got)
	}
	if r.Unsubscribe(3, "chat") {
		t.Fatal("unsubscribe of a non-subscriber: last = true")
	}
	if r.Unsubscribe(1, "chat") {
		t.Fatal("one subscriber left: last = true")
	}
	if r.Unsubscribe(1, "chat") {
		t.Fatal("duplicate unsubscribe: last = true")
	}
	if !r.Unsubscribe(2, "chat") {
		t.Fatal("last subscriber left: last = false")
	}
	if r.NumTopics() != 0 || r.NumSubscribers("chat") != 0 || r.Subscribers("chat") != nil {
		t.Fatal("empty topic not dropped")
	}
}

func TestCounts(t *testing.T) {
	var r Registry[string]
	for i, want := range [][2]int{{0, 1}, {1, 2}, {2, 2}} {
		s := []string{"a", "b", "b"}[i]
		if b, a := r.SubscribeCount(s, "t"); b != want[0] || a != want[1] {
			t.Errorf("SubscribeCount(%s) = %d,%d, want %v", s, b, a, want)
		}
	}
	if b, a := r.UnsubscribeCount("c", "t"); b != 2 || a != 2 {
		t.Errorf("UnsubscribeCount(non-subscriber) = %d,%d, want 2,2", b, a)
	}
	if b, a := r.UnsubscribeCount("a", "t"); b != 2 || a != 1 {
		t.Errorf("UnsubscribeCount(a) = %d,%d, want 2,1", b, a)
	}
	if b, a := r.UnsubscribeCount("x", "nope"); b != 0 || a != 0 {
		t.Errorf("UnsubscribeCount(unknown topic) = %d,%d, want 0,0", b, a)
	}
}

func TestUnsubscribeAllAndTopics(t *testing.T) {
	var r Registry[int]
	for _, tp := range []string{"b", "a", "", "a.*>", "c"} {
		r.Subscribe(1, tp)
	}
	r.Subscribe(2, "c")
	if got, want := r.Topics(1), []string{"", "a", "a.*>", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("Topics = %q, want %q", got, want)
	}
	if !r.IsSubscribed(1, "") || r.IsSubscribed(2, "a") || r.IsSubscribed(9, "a") {
		t.Fatal("IsSubscribed wrong")
	}
	emptied := r.UnsubscribeAll(1)
	slices.Sort(emptied)
	if want := []string{"", "a", "a.*>", "b"}; !slices.Equal(emptied, want) {
		t.Fatalf("emptied = %q, want %q (c still has subscriber 2)", emptied, want)
	}
	if len(r.Topics(1)) != 0 || r.NumTopics() != 1 || r.UnsubscribeAll(1) != nil {
		t.Fatal("state after UnsubscribeAll")
	}
}

func TestSnapshotIsStableAndShared(t *testing.T) {
	var r Registry[int]
	for i := range 10 {
		r.Subscribe(i, "t")
	}
	s1 := r.Subscribers("t")
	s2 := r.Subscribers("t")
	if &s1[0] != &s2[0] {
		t.Fatal("snapshot not reused between changes")
	}
	r.Unsubscribe(0, "t")
	if len(s1) != 10 {
		t.Fatal("old snapshot changed by a later unsubscribe")
	}
	s3 := r.Subscribers("t")
	if len(s3) != 9 || slices.Contains(s3, 0) {
		t.Fatalf("new snapshot = %v", s3)
	}
}

func TestEachMayResubscribe(t *testing.T) {
	var r Registry[int]
	for i := range 5 {
		r.Subscribe(i, "t")
	}
	seen := 0
	r.Each("t", func(s int) { // would deadlock if Each held the lock
		seen++
		r.Unsubscribe(s, "t")
		r.Subscribe(s+100, "t")
	})
	if seen != 5 || r.NumSubscribers("t") != 5 || r.IsSubscribed(0, "t") {
		t.Fatalf("seen %d, now %d subscribers", seen, r.NumSubscribers("t"))
	}
}

func TestPublishDoesNotAllocate(t *testing.T) {
	var r Registry[int]
	for i := range 1000 {
		r.Subscribe(i, "t")
	}
	r.Subscribers("t") // build the snapshot
	sum := 0
	fn := func(s int) { sum += s }
	allocs := testing.AllocsPerRun(100, func() { r.Each("t", fn) })
	if allocs != 0 {
		t.Fatalf("publishing to 1000 subscribers: %v allocs, want 0", allocs)
	}
}

func TestConcurrent(t *testing.T) {
	var r Registry[int]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				tp := fmt.Sprint(i % 7)
				s := g*10 + i%5
				switch i % 4 {
				case 0, 1:
					r.Subscribe(s, tp)
				case 2:
					r.Unsubscribe(s, tp)
				case 3:
					r.Each(tp, func(int) {})
					r.Topics(s)
				}
			}
			r.UnsubscribeAll(g*10 + 0)
		})
	}
	wg.Wait()
	// The invariant that must survive any interleaving: the two indexes agree.
	total := 0
	for tp := range 7 {
		n := r.NumSubscribers(fmt.Sprint(tp))
		if n != len(r.Subscribers(fmt.Sprint(tp))) {
			t.Fatal("count and snapshot disagree")
		}
		total += n
	}
	perSub := 0
	for s := range 80 {
		perSub += len(r.Topics(s))
	}
	if total != perSub {
		t.Fatalf("topic side has %d subscriptions, subscriber side %d", total, perSub)
	}
}
