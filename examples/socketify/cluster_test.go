package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/graftgo/graft/internal/redistest"
)

// startNATS runs an embedded nats-server on a free loopback port until
// the test ends and returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready within 10s")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// startRedis runs a real redis-server (no persistence) on a free
// loopback port until the test ends and returns its URL.
func startRedis(t *testing.T) string {
	t.Helper()
	return redistest.Start(t).URL()
}

// startFromFlags makes the example's app and starts it from a command
// line, as main does (Run parses the same flags), on its own port.
func startFromFlags(t *testing.T, args ...string) (*graft.App[Ctx], string) {
	t.Helper()
	app := newApp(graft.Config{Logger: quiet}, ws.Config{})
	if err := app.ParseFlags(append([]string{"--host", "127.0.0.1", "--port", "-1"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return app, serve(t, app)
}

// Two processes' worth of the example on two ports, joined by --nats or
// --redis and nothing else (no balancer): alice on one, bob on the
// other, private messages both ways, every one exactly once and in
// order, first through the signal topics and on after the join.
func TestClusterFromTheCommandLine(t *testing.T) {
	for _, bus := range []struct {
		name  string
		flag  string
		start func(*testing.T) string
	}{{"NATS", "--nats", startNATS}, {"Redis", "--redis", startRedis}} {
		t.Run(bus.name, func(t *testing.T) {
			url := bus.start(t)
			appA, addrA := startFromFlags(t, bus.flag, url)
			appB, addrB := startFromFlags(t, bus.flag, url)
			if addrA == addrB {
				t.Fatal("both nodes on one address")
			}
			alice := dial(t, addrA, "alice")
			bob := dial(t, addrB, "bob")
			waitSubscribers(t, appA, "signal-alice", 1)
			waitSubscribers(t, appB, "signal-bob", 1)
			waitCrossing(t, appA, bob, "signal-bob")
			waitCrossing(t, appB, alice, "signal-alice")

			const n = 200
			for i := 1; i <= n; i++ {
				alice.pm(t, "bob", fmt.Sprintf("a%d", i))
				if i == 1 {
					bob.expect(t, pmJSON("alice", "a1"))
					bob.send(t, JoinRequest{Join: "alice"})
				}
				bob.pm(t, "alice", fmt.Sprintf("b%d", i))
			}
			bob.expectPMs(t, "alice", numbered("a", 2, n)...)
			alice.expectPMs(t, "bob", numbered("b", 1, n)...)
		})
	}
}

// waitCrossing publishes probes on from until c receives one (the bus
// subscription is asynchronous), then drains the probes still coming.
func waitCrossing(t *testing.T, from *graft.App[Ctx], c *client, topic string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := ws.Publish(from, topic, []byte("probe"), ws.OpText); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-c.msgs:
			if m != "probe" {
				t.Fatalf("%s got %s, want probe", c.name, m)
			}
		case <-time.After(20 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("nothing crossed the bus to %s within 10s", c.name)
			}
			continue
		}
		break
	}
	for {
		select {
		case <-c.msgs:
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

// --nats and --redis together are a start-up error naming both.
func TestClusterFlagsConflict(t *testing.T) {
	app := newApp(graft.Config{Logger: quiet}, ws.Config{})
	err := app.ParseFlags([]string{"--nats", "nats://127.0.0.1:1", "--redis", "127.0.0.1:1"})
	if err == nil {
		err = app.Start(t.Context())
		app.Shutdown(t.Context())
	}
	if err == nil || !strings.Contains(err.Error(), "both --nats and --redis") {
		t.Fatalf("err = %v, want one saying both --nats and --redis are set", err)
	}
}

// A bus that is down makes start-up fail within --broker-wait, naming
// the URL given with --nats.
func TestClusterBusDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close()
	app := newApp(graft.Config{Logger: quiet}, ws.Config{})
	if err := app.ParseFlags([]string{"--host", "127.0.0.1", "--port", "-1", "--nats", url, "--broker-wait", "200ms"}); err != nil {
		t.Fatal(err)
	}
	err = app.Start(t.Context())
	app.Shutdown(t.Context())
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "--broker-wait") {
		t.Fatalf("Start = %v, want an error naming %s and --broker-wait", err, url)
	}
}

// A second socketify process (this test binary running main) and an
// in-process node share an embedded nats-server, with presence on the
// signal topics (--ws.presence 'signal-*'): PMs cross between the
// processes exactly once, in order; each node sees who is online on the
// other; and when the process is killed (SIGKILL: no leave, no bye) its
// users drop out of the other node's presence within the TTL.
func TestClusterProcessGone(t *testing.T) {
	url := startNATS(t)
	flags := []string{"--nats", url, "--ws.presence", "signal-*", "--ws.presence-ttl", "600ms"}
	appA, addrA := startFromFlags(t, flags...)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrB := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addrB)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCKETIFY_MAIN_ARGS="+strings.Join(append([]string{"--host", "127.0.0.1", "--port", port}, flags...), "\n"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addrB, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("the socketify process exited (%v) before listening:\n%s", waitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the socketify process did not listen on %s within 20s:\n%s", addrB, out.String())
		}
	}

	alice := dial(t, addrA, "alice")
	bob := dial(t, addrB, "bob")
	online := func(user string, want int) {
		t.Helper()
		var n int
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var err error
			if n, err = ws.NumClusterSubscribers(appA, "signal-"+user); err != nil {
				t.Fatal(err)
			}
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node A counts %d connections of %s, want %d", n, user, want)
			}
		}
	}
	online("bob", 1) // bob is on the other process
	if ms, _ := ws.HubOf(appA).Presence("signal-bob"); len(ms) != 1 || ms[0].Info != "bob" || ms[0].Node == ws.HubOf(appA).NodeID() {
		t.Fatalf("Presence(signal-bob) on A = %+v, want bob on another node", ms)
	}
	if n := ws.NumSubscribers(appA, "signal-bob"); n != 0 {
		t.Fatalf("NumSubscribers(signal-bob) on A = %d, want 0: it counts this node only", n)
	}
	waitCrossing(t, appA, bob, "signal-bob")

	const n = 50
	for i := 1; i <= n; i++ {
		alice.pm(t, "bob", fmt.Sprintf("a%d", i))
		if i == 1 {
			bob.expect(t, pmJSON("alice", "a1"))
			bob.send(t, JoinRequest{Join: "alice"})
		}
		bob.pm(t, "alice", fmt.Sprintf("b%d", i))
	}
	bob.expectPMs(t, "alice", numbered("a", 2, n)...)
	alice.expectPMs(t, "bob", numbered("b", 1, n)...)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	online("bob", 0)
	online("alice", 1)
}
