package ws

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/internal/fdlimit"
)

// benchClientsEnv makes the test binary a process of WebSocket clients
// for BenchmarkHistoryPublish (see runBenchClients): "addr path n". The
// clients live in their own process so that 10,000 of them and the
// server's 10,000 ends fit under the descriptor limit.
const benchClientsEnv = "GRAFT_WS_BENCH_CLIENTS"

// runBenchClients dials n connections to addr/path, reads every frame
// they get, and prints the total number of data frames received, each
// time it changed (checked every 100µs), until stdin closes.
func runBenchClients(spec string) {
	var addr, path string
	var n int
	if _, err := fmt.Sscan(spec, &addr, &path, &n); err != nil {
		fmt.Fprintln(os.Stderr, "bench clients:", err)
		os.Exit(2)
	}
	var got atomic.Int64
	conns := make([]net.Conn, n)
	for i := range conns {
		c, br, err := benchDial(addr, path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench clients: dial:", err)
			os.Exit(2)
		}
		conns[i] = c
		go func() {
			for {
				op, err := benchReadFrame(br)
				if err != nil {
					return
				}
				if op == 1 || op == 2 {
					got.Add(1)
				}
			}
		}()
	}
	fmt.Println("dialed")
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	var last int64 = -1
	for {
		if v := got.Load(); v != last {
			fmt.Println(v)
			last = v
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func benchDial(addr, path string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	// Bounded: a server out of descriptors leaves the dial unanswered.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("handshake with %s%s: %w", addr, path, err)
	}
	c.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return c, br, nil
}

// benchReadFrame reads one unmasked server frame and returns its opcode.
func benchReadFrame(br *bufio.Reader) (byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, err
	}
	n := int64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, err
		}
		n = int64(l[0])<<8 | int64(l[1])
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, err
		}
		n = 0
		for _, x := range l {
			n = n<<8 | int64(x)
		}
	}
	_, err := br.Discard(int(n))
	return h[0] & 0x0f, err
}

// benchClients is a child process of n subscribers.
type benchClients struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	moved *sync.Cond // signalled when got changes
	got   int64
	ready chan struct{}
	done  chan struct{}
}

func startBenchClients(b *testing.B, addr, path string, n int) *benchClients {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchClientsEnv+"="+addr+" "+path+" "+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &benchClients{cmd: cmd, stdin: stdin, ready: make(chan struct{}), done: make(chan struct{})}
	c.moved = sync.NewCond(&c.mu)
	go func() {
		defer close(c.done)
		defer c.moved.Broadcast()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "dialed" {
				close(c.ready)
				continue
			}
			if v, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
				c.mu.Lock()
				c.got = v
				c.mu.Unlock()
				c.moved.Broadcast()
			}
		}
	}()
	select {
	case <-c.ready:
	case <-c.done:
		b.Fatal("the client process ended before dialing")
	case <-time.After(60 * time.Second):
		b.Fatal("the client process did not dial within 60s")
	}
	return c
}

func (c *benchClients) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
	}
	c.cmd.Wait()
}

// waitFor waits, blocked, until the clients received want frames in all.
func (c *benchClients) waitFor(b *testing.B, want int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.got < want {
		select {
		case <-c.done:
			b.Fatalf("the client process ended with %d frames received, want %d", c.got, want)
		default:
		}
		c.moved.Wait()
	}
}

// BenchmarkHistoryPublish publishes 32-byte messages to 1, 100 and 10,000
// subscribers with the topic's history off and on (memory backend), in
// windows of 16 messages, each window waited for until every subscriber
// got it: ns/op is one message delivered to all, server-cpu-ns/op the
// server process's CPU time for it (publishing, fan-out, the writes),
// the figure to compare on a shared machine. The subscribers run in a
// child process.
func BenchmarkHistoryPublish(b *testing.B) {
	for _, subs := range []int{1, 100, 10000} {
		for _, mode := range []string{"off", "on"} {
			b.Run(fmt.Sprintf("subs=%d/history=%s", subs, mode), func(b *testing.B) {
				benchHistoryPublish(b, subs, mode == "on")
			})
		}
	}
}

func benchHistoryPublish(b *testing.B, subs int, history bool) {
	// This process holds the server ends, the child (which inherits the
	// limit) the client ends.
	need := uint64(subs) + fdlimit.Margin
	if got := fdlimit.Raise(need); got < need {
		b.Skipf("%d subscribers need %d open files in each process, the limit is %d (raise it: ulimit -n %d)", subs, need, got, need)
	}
	topic := "plain.bench"
	if history {
		topic = "chat.bench"
	}
	hub := Extension(Config{History: broker.HistoryPolicies{{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 1000}}}, PoolMaxItems: -1, IdleTimeout: -1})
	app := wsTestApp(b, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(hub)
		Route(app, "/ws", Behavior[struct{}]{
			Open: func(c *Conn[struct{}]) { c.Subscribe(topic) },
		})
	})
	clients := startBenchClients(b, app.Addr(), "/ws", subs)
	defer clients.stop()
	deadline := time.Now().Add(60 * time.Second)
	for hub.NumSubscribers(topic) < subs {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscribed within 60s", hub.NumSubscribers(topic), subs)
		}
		time.Sleep(time.Millisecond)
	}
	msg := []byte(strings.Repeat("x", 32))
	const window = 16
	b.ReportAllocs()
	cpu0, cpuOK := cpuTime()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := min(window, b.N-sent)
		for range n {
			if err := hub.Publish(topic, msg, OpText); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
		clients.waitFor(b, int64(sent)*int64(subs))
	}
	b.StopTimer()
	b.ReportMetric(float64(int64(b.N)*int64(subs))/b.Elapsed().Seconds(), "deliveries/s")
	if cpu1, ok := cpuTime(); ok && cpuOK {
		// The server's CPU per message (publish, fan-out, writes): what
		// history adds, less the machine's other load than ns/op.
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "server-cpu-ns/op")
	}
}
