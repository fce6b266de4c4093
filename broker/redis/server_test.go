package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
	"github.com/graftgo/graft/internal/redistest"
	"github.com/redis/rueidis"
)

// redisServer is a real redis-server on loopback (internal/redistest).
type redisServer = redistest.Server

// freePort returns a loopback port nothing listens on.
func freePort(tb testing.TB) int { tb.Helper(); return redistest.FreePort(tb) }

// startRedis starts redis-server on 127.0.0.1:port (0: a free port), with
// persistence off, and kills it when the test ends.
func startRedis(tb testing.TB, port int) *redisServer {
	tb.Helper()
	return redistest.StartOn(tb, port)
}

// startRedisDurable starts redis-server like startRedis, but with an
// append-only file in dir, fsynced on every write: a kill loses nothing
// it acknowledged, and a restart on the same dir has it all.
func startRedisDurable(tb testing.TB, port int, dir string) *redisServer {
	tb.Helper()
	return redistest.StartOn(tb, port, "--appendonly", "yes", "--appendfsync", "always", "--dir", dir)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newNode(tb testing.TB, s *redisServer) *Broker {
	tb.Helper()
	b, err := New(Options{Addr: s.Addr(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func startNode(tb testing.TB, s *redisServer) (*Broker, *brokertest.Recorder) {
	tb.Helper()
	b, r := newNode(tb, s), brokertest.NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, r.Deliver); err != nil {
		tb.Fatal(err)
	}
	return b, r
}

// admin is a plain client for inspecting the server.
func admin(tb testing.TB, s *redisServer) rueidis.Client {
	tb.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.Addr()}, DisableCache: true})
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

// redisBus starts a redis-server for one test and describes it to the
// conformance tests of package brokertest.
func redisBus(t testing.TB) brokertest.Harness {
	s := startRedis(t, 0)
	c := admin(t, s)
	return brokertest.Harness{
		NewNode: func(t testing.TB) broker.Broker {
			b, err := New(Options{Addr: s.Addr(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		// CLIENT LIST counts a node's channels (sub=), over all of its
		// connections.
		CheckSubs: func(t testing.TB, n broker.Broker, wait bool, topics ...string) {
			t.Helper()
			b := n.(*Broker)
			if wait {
				brokertest.WaitFor(t, fmt.Sprintf("%d channel subscriptions", len(topics)), func() bool {
					return channelSubs(t, c, b) == len(topics)
				})
			} else if got := channelSubs(t, c, b); got != len(topics) {
				t.Fatalf("node holds %d channel subscriptions, want %d (%q)", got, len(topics), topics)
			}
		},
		// Subscribe and Unsubscribe wait for Redis's reply.
		Synchronous: true,
		// Redis has no "no echo": the origin id filters.
		Echoes: true,
		Topic:  "room 1.*.>\x00\xff", // any bytes
		// The admin client's PUBLISH returns once Redis has passed the
		// junk to the subscribers, before via's next Publish.
		Inject: func(t testing.TB, via broker.Broker, topic string, data []byte) {
			t.Helper()
			if err := c.Do(t.Context(), c.B().Publish().Channel(via.(*Broker).Channel(topic)).Message(string(data)).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		},
		// A crash: the nodes see it as failing publishes.
		StopBus: func(t testing.TB, nodes ...broker.Broker) {
			s.Kill()
			for _, n := range nodes {
				brokertest.WaitFor(t, "publish failure while Redis is down", func() bool {
					return n.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("lost")}) != nil
				})
			}
		},
		// Same port; each node's pooled publishing connection may need a
		// try to notice the restart (retrying a failed publish is the
		// caller's choice), so probe on a topic nobody subscribes to.
		StartBus: func(t testing.TB, nodes ...broker.Broker) {
			s = startRedis(t, s.Port)
			c = admin(t, s)
			for _, n := range nodes {
				brokertest.WaitFor(t, "publish after restart", func() bool {
					return n.Publish(t.Context(), broker.Message{Topic: "brokertest probe"}) == nil
				})
			}
		},
		ConcurrentOps: 100,
		// The server's view matches the broker's record.
		Settled: func(t testing.TB, n broker.Broker) {
			b := n.(*Broker)
			b.mu.Lock()
			want := len(b.topics)
			b.mu.Unlock()
			if got := channelSubs(t, c, b); got != want {
				t.Errorf("server holds %d channel subscriptions, broker recorded %d", got, want)
			}
		},
	}
}

// TestConformance runs the cases every bus broker passes (two nodes,
// one subscription per topic, subscribe before Start, server restart,
// Close, malformed messages, concurrent use) against redis-server.
func TestConformance(t *testing.T) { brokertest.Run(t, redisBus) }

// TestChannelSubscribers checks Redis's per-channel view (PUBSUB NUMSUB):
// one subscriber per node however often the node subscribes, and none
// left once a node unsubscribes or closes.
func TestChannelSubscribers(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	a, _ := startNode(t, s)
	b, _ := startNode(t, s)
	for range 3 {
		a.Subscribe("x")
	}
	b.Subscribe("x")
	if n := numSub(t, c, a, "x"); n != 2 {
		t.Fatalf("channel x has %d subscribers, want 2 (one per node)", n)
	}
	a.Unsubscribe("x")
	if n := numSub(t, c, a, "x"); n != 1 {
		t.Fatalf("channel x has %d subscribers, want 1", n)
	}
	b.Close()
	brokertest.WaitFor(t, "subscription gone", func() bool { return numSub(t, c, b, "x") == 0 })
}

func TestStartFailsWithoutServer(t *testing.T) {
	b, err := New(Options{Addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), Logger: quiet, ReconnectWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// The failed dials leave rueidis goroutines sleeping out a retry delay
	// of up to a second; wait for them, so that goleak at the end of the
	// run does not report them when this test runs last.
	t.Cleanup(func() { waitGone(t, "rueidis.(*call).DelayDo") })
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := b.Start(ctx, func(broker.Message) {}); err == nil {
		t.Fatal("Start succeeded without a server")
	}
	s := startRedis(t, 0)
	b.opts.Client.InitAddress = []string{s.Addr()}
	if err := b.Start(t.Context(), func(broker.Message) {}); err != nil {
		t.Fatalf("Start after a failed Start: %v", err)
	}
}

// waitGone waits up to 5 s until no goroutine's stack mentions fn.
func waitGone(t testing.TB, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn) {
			return
		}
	}
	t.Errorf("goroutines in %s still running after 5s", fn)
}
