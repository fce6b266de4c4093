package redis

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/redis/rueidis"
)

// redisServer is a redis-server process on 127.0.0.1.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// freePort returns a loopback port nothing listens on.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts redis-server on 127.0.0.1:port (0: a free port), with
// persistence off, and kills it when the test ends.
func startRedis(tb testing.TB, port int) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal("redis-server not found in PATH; these tests need a real Redis: apt-get install -y redis-server")
	}
	if port == 0 {
		port = freePort(tb)
	}
	s := &redisServer{port: port}
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.kill)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ping(s.addr()) {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on port %d not ready within 10s", port)
		}
	}
}

// kill stops the server at once, as a crash would.
func (s *redisServer) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder collects what a node's deliver function receives.
type recorder struct{ ch chan broker.Message }

func newRecorder() *recorder { return &recorder{ch: make(chan broker.Message, 1024)} }

func (r *recorder) deliver(m broker.Message) { r.ch <- m }

func (r *recorder) next(tb testing.TB) broker.Message {
	tb.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5s")
		return broker.Message{}
	}
}

func (r *recorder) none(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case m := <-r.ch:
		tb.Fatalf("unexpected message %q on %q", m.Payload, m.Topic)
	case <-time.After(d):
	}
}

func newNode(tb testing.TB, s *redisServer) *Broker {
	tb.Helper()
	b, err := New(Options{Addr: s.addr(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func startNode(tb testing.TB, s *redisServer) (*Broker, *recorder) {
	tb.Helper()
	b, r := newNode(tb, s), newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, r.deliver); err != nil {
		tb.Fatal(err)
	}
	return b, r
}

// admin is a plain client for inspecting the server.
func admin(tb testing.TB, s *redisServer) rueidis.Client {
	tb.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.addr()}, DisableCache: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// channelSubs returns how many channel subscriptions the server holds for
// node b, over all of its connections (CLIENT LIST's sub= field).
func channelSubs(tb testing.TB, c rueidis.Client, b *Broker) int {
	tb.Helper()
	list, err := c.Do(tb.Context(), c.B().ClientList().Build()).ToString()
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(list) {
		if !strings.Contains(line, " name="+b.opts.Client.ClientName+" ") {
			continue
		}
		for f := range strings.FieldsSeq(line) {
			if v, ok := strings.CutPrefix(f, "sub="); ok {
				k, _ := strconv.Atoi(v)
				n += k
			}
		}
	}
	return n
}

// numSub returns how many clients are subscribed to topic's channel.
func numSub(tb testing.TB, c rueidis.Client, b *Broker, topic string) int64 {
	tb.Helper()
	m, err := c.Do(tb.Context(), c.B().PubsubNumsub().Channel(b.Channel(topic)).Build()).AsIntMap()
	if err != nil {
		tb.Fatal(err)
	}
	return m[b.Channel(topic)]
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatalf("no %s within 10s", what)
}

func TestTwoNodes(t *testing.T) {
	s := startRedis(t, 0)
	a, ra := startNode(t, s)
	b, rb := startNode(t, s)
	const topic = "room 1.*.>\x00\xff" // any bytes
	for _, n := range []*Broker{a, b} {
		if err := n.Subscribe(topic); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	if err := a.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from a"), Binary: true}); err != nil {
		t.Fatal(err)
	}
	if m := rb.next(t); string(m.Payload) != "from a" || m.Topic != topic || !m.Binary {
		t.Fatalf("b got %+v", m)
	}
	if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from b")}); err != nil {
		t.Fatal(err)
	}
	if m := ra.next(t); string(m.Payload) != "from b" || m.Binary {
		t.Fatalf("a got %+v", m)
	}
	// Exactly once, and never back to the publisher: Redis does echo, and
	// the origin id filters it.
	ra.none(t, 100*time.Millisecond)
	rb.none(t, 0)
	for name, n := range map[string]*Broker{"a": a, "b": b} {
		if st := n.Stats(); st != (broker.Stats{Published: 1, Delivered: 1, Echoed: 1}) {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
}

func TestOneBusSubscriptionPerTopic(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	a, _ := startNode(t, s)
	b, _ := startNode(t, s)
	for range 3 {
		for _, tp := range []string{"x", "y", ""} {
			if err := a.Subscribe(tp); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Subscribe("x")
	if n := channelSubs(t, c, a); n != 3 {
		t.Fatalf("node a holds %d channel subscriptions, want 3", n)
	}
	if n := numSub(t, c, a, "x"); n != 2 {
		t.Fatalf("channel x has %d subscribers, want 2 (one per node)", n)
	}
	a.Unsubscribe("y")
	a.Unsubscribe("y")
	a.Unsubscribe("never")
	if n := channelSubs(t, c, a); n != 2 {
		t.Fatalf("after unsubscribe: %d channel subscriptions, want 2", n)
	}
	a.Unsubscribe("x")
	a.Unsubscribe("")
	if n := channelSubs(t, c, a); n != 0 {
		t.Fatalf("after unsubscribing all: %d channel subscriptions, want 0", n)
	}
	if n := numSub(t, c, a, "x"); n != 1 {
		t.Fatalf("channel x has %d subscribers, want 1", n)
	}
}

func TestSubscribeBeforeStart(t *testing.T) {
	s := startRedis(t, 0)
	a, _ := startNode(t, s)
	b := newNode(t, s)
	b.Subscribe("early")
	b.Subscribe("early")
	if err := b.Publish(t.Context(), broker.Message{Topic: "early"}); err != broker.ErrNotStarted {
		t.Fatalf("Publish before Start: %v", err)
	}
	rb := newRecorder()
	if err := b.Start(t.Context(), rb.deliver); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context(), rb.deliver); err != broker.ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	a.Publish(t.Context(), broker.Message{Topic: "early", Payload: []byte("hi")})
	if m := rb.next(t); string(m.Payload) != "hi" {
		t.Fatalf("got %q", m.Payload)
	}
}

// TestServerRestart kills redis-server mid-test and starts it again on the
// same port: the nodes reconnect, subscribe to their topics again, and
// messages flow again.
func TestServerRestart(t *testing.T) {
	s := startRedis(t, 0)
	a, _ := startNode(t, s)
	b, rb := startNode(t, s)
	b.Subscribe("t")
	a.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("before")})
	if m := rb.next(t); string(m.Payload) != "before" {
		t.Fatalf("got %q", m.Payload)
	}

	s.kill()
	waitFor(t, "publish failure while Redis is down", func() bool {
		return a.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("lost")}) != nil
	})
	// Recorded while down, subscribed on reconnect.
	if err := b.Subscribe("while down"); err != nil {
		t.Fatalf("Subscribe while Redis is down: %v", err)
	}
	b.Unsubscribe("t")
	b.Subscribe("t")

	s2 := startRedis(t, s.port)
	c := admin(t, s2)
	waitFor(t, "resubscription", func() bool { return channelSubs(t, c, b) == 2 })
	for _, tp := range []string{"t", "while down"} {
		// The publisher's pooled connection may need a try to notice the
		// restart; retrying a failed publish is the caller's choice.
		waitFor(t, "publish after restart", func() bool {
			return a.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte("after " + tp)}) == nil
		})
		if m := rb.next(t); string(m.Payload) != "after "+tp {
			t.Fatalf("got %q", m.Payload)
		}
	}
	rb.none(t, 50*time.Millisecond)
}

func TestStartFailsWithoutServer(t *testing.T) {
	b, err := New(Options{Addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), Logger: quiet, ReconnectWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := b.Start(ctx, func(broker.Message) {}); err == nil {
		t.Fatal("Start succeeded without a server")
	}
	s := startRedis(t, 0)
	b.opts.Client.InitAddress = []string{s.addr()}
	if err := b.Start(t.Context(), func(broker.Message) {}); err != nil {
		t.Fatalf("Start after a failed Start: %v", err)
	}
}

func TestClose(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	a, _ := startNode(t, s)
	b, rb := startNode(t, s)
	b.Subscribe("t")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, "subscription gone", func() bool { return numSub(t, c, b, "t") == 0 })
	a.Publish(t.Context(), broker.Message{Topic: "t"})
	rb.none(t, 50*time.Millisecond)
	for name, err := range map[string]error{
		"Subscribe":   b.Subscribe("t"),
		"Unsubscribe": b.Unsubscribe("t"),
		"Publish":     b.Publish(t.Context(), broker.Message{Topic: "t"}),
		"Start":       b.Start(t.Context(), rb.deliver),
	} {
		if err != broker.ErrClosed {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// TestMalformedOnBus publishes garbage on a topic's channel with a plain
// client: the node drops it, counts it, and keeps working.
func TestMalformedOnBus(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	a, ra := startNode(t, s)
	b, _ := startNode(t, s)
	a.Subscribe("t")
	for _, junk := range []string{"", "x", "G\x01\x00 too short", "G\x09" + strings.Repeat("\x00", 40)} {
		if err := c.Do(t.Context(), c.B().Publish().Channel(a.Channel("t")).Message(junk).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	b.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("good")})
	if m := ra.next(t); string(m.Payload) != "good" {
		t.Fatalf("got %q", m.Payload)
	}
	if st := a.Stats(); st.Malformed != 4 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := startRedis(t, 0)
	a, _ := startNode(t, s)
	b, _ := startNode(t, s)
	var wg sync.WaitGroup
	for i, n := range []*Broker{a, b} {
		for g := range 4 {
			wg.Go(func() {
				for j := range 100 {
					tp := fmt.Sprint(j % 5)
					n.Subscribe(tp)
					n.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte{byte(i), byte(g)}})
					if j%3 == 0 {
						n.Unsubscribe(tp)
					}
					n.Stats()
				}
			})
		}
	}
	wg.Wait()
	c := admin(t, s)
	for _, n := range []*Broker{a, b} {
		if st := n.Stats(); st.Malformed != 0 {
			t.Errorf("stats %+v", st)
		}
		// The server's view matches the broker's record.
		n.mu.Lock()
		want := len(n.topics)
		n.mu.Unlock()
		if got := channelSubs(t, c, n); got != want {
			t.Errorf("server holds %d channel subscriptions, broker recorded %d", got, want)
		}
	}
}
