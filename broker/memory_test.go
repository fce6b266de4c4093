package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recorder collects what a node's deliver function receives.
type recorder struct {
	mu  sync.Mutex
	got []Message
	ch  chan Message
}

func newRecorder() *recorder { return &recorder{ch: make(chan Message, 1024)} }

func (r *recorder) deliver(m Message) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	r.ch <- m
}

func (r *recorder) next(t *testing.T) Message {
	t.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return Message{}
	}
}

func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-r.ch:
		t.Fatalf("unexpected message %q on %q", m.Payload, m.Topic)
	case <-time.After(d):
	}
}

func startNode(t *testing.T, bus *MemoryBus) (*MemoryNode, *recorder) {
	t.Helper()
	n, r := bus.Node(), newRecorder()
	if err := n.Start(t.Context(), r.deliver); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, r
}

func TestMemoryTwoNodes(t *testing.T) {
	bus := NewMemoryBus()
	a, ra := startNode(t, bus)
	b, rb := startNode(t, bus)
	if a.ID() == b.ID() {
		t.Fatal("two nodes share an id")
	}
	for _, n := range []*MemoryNode{a, b} {
		if err := n.Subscribe("chat"); err != nil {
			t.Fatal(err)
		}
		n.Subscribe("chat") // idempotent
	}
	ctx := t.Context()
	if err := a.Publish(ctx, Message{Topic: "chat", Payload: []byte("from a"), Binary: true}); err != nil {
		t.Fatal(err)
	}
	if m := rb.next(t); string(m.Payload) != "from a" || m.Topic != "chat" || !m.Binary {
		t.Fatalf("b got %+v", m)
	}
	a.Publish(ctx, Message{Topic: "other", Payload: []byte("nobody listens")})
	b.Unsubscribe("chat")
	b.Unsubscribe("chat")
	a.Publish(ctx, Message{Topic: "chat", Payload: []byte("b left")})
	b.Publish(ctx, Message{Topic: "chat", Payload: []byte("from b")})
	if m := ra.next(t); string(m.Payload) != "from b" {
		t.Fatalf("a got %q", m.Payload)
	}
	ra.none(t, 50*time.Millisecond)
	rb.none(t, 0)
	if s := a.Stats(); s.Published != 3 || s.Delivered != 1 {
		t.Errorf("a stats %+v", s)
	}
	if s := b.Stats(); s.Published != 1 || s.Delivered != 1 {
		t.Errorf("b stats %+v", s)
	}
}

func TestMemoryPayloadCopied(t *testing.T) {
	bus := NewMemoryBus()
	a, _ := startNode(t, bus)
	b, rb := startNode(t, bus)
	b.Subscribe("t")
	buf := []byte("original")
	a.Publish(t.Context(), Message{Topic: "t", Payload: buf})
	copy(buf, "CHANGED!")
	if m := rb.next(t); string(m.Payload) != "original" {
		t.Fatalf("payload aliased the publisher's buffer: %q", m.Payload)
	}
}

func TestMemorySubscribeBeforeStart(t *testing.T) {
	bus := NewMemoryBus()
	a, _ := startNode(t, bus)
	b, rb := bus.Node(), newRecorder()
	b.Subscribe("early")
	if err := b.Publish(t.Context(), Message{Topic: "early"}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Publish before Start: %v", err)
	}
	a.Publish(t.Context(), Message{Topic: "early", Payload: []byte("lost")}) // b not started: lost
	if err := b.Start(t.Context(), rb.deliver); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Start(t.Context(), rb.deliver); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	a.Publish(t.Context(), Message{Topic: "early", Payload: []byte("kept")})
	if m := rb.next(t); string(m.Payload) != "kept" {
		t.Fatalf("got %q", m.Payload)
	}
}

func TestMemoryClose(t *testing.T) {
	bus := NewMemoryBus()
	a, _ := startNode(t, bus)
	b, rb := startNode(t, bus)
	b.Subscribe("t")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	a.Publish(t.Context(), Message{Topic: "t"})
	rb.none(t, 20*time.Millisecond)
	for name, err := range map[string]error{
		"Subscribe":   b.Subscribe("t"),
		"Unsubscribe": b.Unsubscribe("t"),
		"Publish":     b.Publish(t.Context(), Message{Topic: "t"}),
		"Start":       b.Start(t.Context(), rb.deliver),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if len(bus.subs) != 0 {
		t.Errorf("closed node still on the bus: %v", bus.subs)
	}
	unstarted := bus.Node()
	if err := unstarted.Close(); err != nil {
		t.Fatalf("Close of a node never started: %v", err)
	}
}

func TestMemorySlowNodeDrops(t *testing.T) {
	bus := NewMemoryBus()
	bus.QueueLen = 4
	a, _ := startNode(t, bus)
	b := bus.Node()
	release := make(chan struct{})
	var got sync.WaitGroup
	got.Add(1)
	first := true
	if err := b.Start(t.Context(), func(Message) {
		if first {
			first = false
			got.Done()
			<-release // stall the node's delivery goroutine
		}
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Subscribe("t")
	a.Publish(t.Context(), Message{Topic: "t"})
	got.Wait()
	for range 10 {
		a.Publish(t.Context(), Message{Topic: "t"})
	}
	close(release)
	if s := b.Stats(); s.Dropped != 6 {
		t.Fatalf("dropped %d, want 6 (10 published into a queue of 4)", s.Dropped)
	}
}

func TestMemoryPublishCanceled(t *testing.T) {
	bus := NewMemoryBus()
	a, _ := startNode(t, bus)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.Publish(ctx, Message{Topic: "t"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish with a canceled ctx: %v", err)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	bus := NewMemoryBus()
	bus.QueueLen = 1 << 16
	nodes := make([]*MemoryNode, 4)
	recs := make([]*recorder, 4)
	for i := range nodes {
		nodes[i], recs[i] = bus.Node(), &recorder{ch: make(chan Message, 1<<16)}
		nodes[i].Start(t.Context(), recs[i].deliver)
		defer nodes[i].Close()
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			for j := range 500 {
				tp := fmt.Sprint(j % 3)
				n.Subscribe(tp)
				n.Publish(t.Context(), Message{Topic: tp, Payload: []byte{byte(i)}})
				if j%2 == 0 {
					n.Unsubscribe(tp)
				}
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if s := n.Stats(); s.Echoed != 0 || s.Dropped != 0 {
			t.Errorf("stats %+v", s)
		}
	}
}

func BenchmarkMemoryPublish(b *testing.B) {
	bus := NewMemoryBus()
	a := bus.Node()
	a.Start(b.Context(), func(Message) {})
	defer a.Close()
	var wg sync.WaitGroup
	c := bus.Node()
	c.Start(b.Context(), func(Message) { wg.Done() })
	defer c.Close()
	c.Subscribe("t")
	payload := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		a.Publish(b.Context(), Message{Topic: "t", Payload: payload})
		wg.Wait()
	}
}
