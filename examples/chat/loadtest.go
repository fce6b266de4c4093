package main

// The load test: `go run ./examples/chat loadtest [flags]` starts the chat
// in this process (one node, or two over an embedded nats-server with
// JetStream) on free loopback ports with a temporary --db, signs up
// -clients users, connects them over /ws, joins client i to room
// i%rooms, has them send -rate messages a second in all for -duration,
// then reports the messages delivered per second, the p50/p99 delivery
// latency (the send time travels in the text and is read at every
// receiver) and any message lost or duplicated (per receiver and room,
// every offset once). It lives in package main, behind the "loadtest"
// argument, so it builds the very app main serves (newChat, ParseFlags)
// without exporting it; it only listens on 127.0.0.1 and ends by itself.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
	"github.com/nats-io/nats-server/v2/server"
)

// loadConfig is the load test's flags.
type loadConfig struct {
	Clients  int
	Rooms    int
	Duration time.Duration
	Rate     int
	Nodes    int
}

// loadResult is what a load test measured.
type loadResult struct {
	Sent, Rejected      int
	Expected, Delivered int
	Lost, Duplicated    int
	PerSecond           float64 // deliveries a second, first send to last delivery
	P50, P99            time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("sent %d (rejected %d), delivered %d of %d: %.0f msg/s, p50 %v, p99 %v, lost %d, duplicated %d",
		r.Sent, r.Rejected, r.Delivered, r.Expected, r.PerSecond, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Lost, r.Duplicated)
}

// loadMain runs the load test from a command line and prints its result.
func loadMain(args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var cfg loadConfig
	fs.IntVar(&cfg.Clients, "clients", 40, "WebSocket clients (users)")
	fs.IntVar(&cfg.Rooms, "rooms", 4, "rooms; client i joins room i%rooms")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the clients send")
	fs.IntVar(&cfg.Rate, "rate", 100, "messages a second, all clients together (at most 8 per client: the chat allows 10)")
	fs.IntVar(&cfg.Nodes, "nodes", 1, "1, or 2 nodes over an embedded nats-server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := runLoad(cfg, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("%d node(s), %d clients, %d rooms, %d msg/s for %v: %v\n", cfg.Nodes, cfg.Clients, cfg.Rooms, cfg.Rate, cfg.Duration, res)
	if res.Lost > 0 || res.Duplicated > 0 {
		return errors.New("loadtest: messages were lost or duplicated")
	}
	return nil
}

// loadClient is one connected user of the load test.
type loadClient struct {
	gws.BuiltinEventHandler
	id     int
	room   string
	conn   *gws.Conn
	joined chan uint64
	closed chan struct{}

	mu        sync.Mutex
	seen      map[uint64]bool
	dups      int
	rejected  int
	latencies []time.Duration
	last      time.Time
}

func (c *loadClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	now := time.Now()
	var w struct {
		Type   string `json:"type"`
		Room   string `json:"room"`
		Offset uint64 `json:"offset"`
		Text   string `json:"text"`
	}
	err := json.Unmarshal(m.Bytes(), &w)
	m.Close()
	if err != nil {
		return
	}
	switch w.Type {
	case "joined":
		c.joined <- w.Offset
	case "error":
		c.mu.Lock()
		c.rejected++
		c.mu.Unlock()
	case "message":
		sent, _, _ := strings.Cut(w.Text, " ")
		ns, _ := strconv.ParseInt(sent, 10, 64)
		c.mu.Lock()
		if c.seen[w.Offset] {
			c.dups++
		} else {
			c.seen[w.Offset] = true
			c.latencies = append(c.latencies, now.Sub(time.Unix(0, ns)))
			c.last = now
		}
		c.mu.Unlock()
	}
}

func (c *loadClient) OnClose(*gws.Conn, error) { close(c.closed) }

// loadNode is a chat node of the load test.
type loadNode struct {
	app    *graft.App[Ctx]
	addr   string
	served chan error
}

func startLoadNode(args []string) (*loadNode, error) {
	app, _ := newChat(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	if err := app.ParseFlags(append([]string{"--host", "127.0.0.1", "--port", "-1"}, args...)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n := &loadNode{app: app, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { n.served <- app.Serve(ln) }()
	return n, nil
}

func (n *loadNode) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := n.app.Shutdown(ctx)
	select {
	case e := <-n.served:
		if e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	case <-time.After(10 * time.Second):
		err = errors.New("loadtest: Serve did not return within 10s of Shutdown")
	}
	return err
}

// runLoad runs one load test; progress goes to logw.
func runLoad(cfg loadConfig, logw io.Writer) (res loadResult, err error) {
	switch {
	case cfg.Clients < 1 || cfg.Rooms < 1 || cfg.Rooms > cfg.Clients:
		return res, fmt.Errorf("loadtest: -clients %d, -rooms %d: want 1 <= rooms <= clients", cfg.Clients, cfg.Rooms)
	case cfg.Nodes != 1 && cfg.Nodes != 2:
		return res, fmt.Errorf("loadtest: -nodes %d: want 1 or 2", cfg.Nodes)
	case cfg.Rate < 1 || cfg.Rate > 8*cfg.Clients:
		return res, fmt.Errorf("loadtest: -rate %d: want 1 to 8 per client (%d), under the chat's 10 a second per connection", cfg.Rate, 8*cfg.Clients)
	case cfg.Duration <= 0 || cfg.Duration > 10*time.Minute:
		return res, fmt.Errorf("loadtest: -duration %v: want up to 10m", cfg.Duration)
	}
	dir, err := os.MkdirTemp("", "chat-loadtest-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	args := []string{"--db", filepath.Join(dir, "chat.db"), "--auth-rate", strconv.Itoa(2*cfg.Clients + 10)}
	if cfg.Nodes == 2 {
		ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			JetStream: true, StoreDir: filepath.Join(dir, "nats")})
		if err != nil {
			return res, err
		}
		go ns.Start()
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		if !ns.ReadyForConnections(10 * time.Second) {
			return res, errors.New("loadtest: nats-server not ready within 10s")
		}
		args = append(args, "--nats", ns.ClientURL())
	}
	var nodes []*loadNode
	defer func() {
		for _, n := range nodes {
			if e := n.stop(); e != nil && err == nil {
				err = e
			}
		}
	}()
	for range cfg.Nodes {
		n, err := startLoadNode(args)
		if err != nil {
			return res, err
		}
		nodes = append(nodes, n)
	}

	fmt.Fprintf(logw, "loadtest: signing up %d users\n", cfg.Clients)
	clients := make([]*loadClient, cfg.Clients)
	defer func() {
		for _, c := range clients {
			if c != nil && c.conn != nil {
				c.conn.NetConn().Close()
				<-c.closed
			}
		}
	}()
	hc := &http.Client{Timeout: 30 * time.Second}
	members := make(map[string]int)
	for i := range clients {
		n := nodes[(i/cfg.Rooms)%len(nodes)]
		name := fmt.Sprintf("load%04d", i)
		b, _ := json.Marshal(Credentials{Username: name, Password: "password-" + name})
		r, err := hc.Post("http://"+n.addr+"/users", "application/json", bytes.NewReader(b))
		if err != nil {
			return res, err
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var tok TokenOut
		if r.StatusCode != http.StatusCreated || json.Unmarshal(body, &tok) != nil {
			return res, fmt.Errorf("loadtest: sign up %s: %d %s", name, r.StatusCode, body)
		}
		c := &loadClient{id: i, room: fmt.Sprintf("load%d", i%cfg.Rooms), joined: make(chan uint64, 1),
			closed: make(chan struct{}), seen: map[uint64]bool{}}
		conn, wr, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + n.addr + "/ws?token=" + tok.Token, ReadMaxPayloadSize: 1 << 20})
		if err != nil {
			return res, fmt.Errorf("loadtest: %s connects: %w", name, err)
		}
		wr.Body.Close()
		c.conn = conn
		clients[i] = c
		go conn.ReadLoop()
		join, _ := json.Marshal(JoinIn{Type: "join", Room: c.room})
		if err := conn.WriteMessage(gws.OpcodeText, join); err != nil {
			return res, err
		}
		select {
		case <-c.joined:
		case <-time.After(10 * time.Second):
			return res, fmt.Errorf("loadtest: %s got no joined within 10s", name)
		}
		members[c.room]++
	}
	// Every node must see every member before the first message.
	for room, want := range members {
		for _, n := range nodes {
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				got, err := ws.HubOf(n.app).NumClusterSubscribers(roomTopic(room))
				if err == nil && got == want {
					break
				}
				if time.Now().After(deadline) {
					return res, fmt.Errorf("loadtest: node %s sees %d members of %s after 10s, want %d (%v)", n.addr, got, room, want, err)
				}
			}
		}
	}

	fmt.Fprintf(logw, "loadtest: %d msg/s for %v\n", cfg.Rate, cfg.Duration)
	sentPerRoom := map[string]int{}
	interval := time.Second / time.Duration(cfg.Rate)
	start := time.Now()
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.Sub(start) >= cfg.Duration {
			break
		}
		time.Sleep(time.Until(at))
		c := clients[k%len(clients)]
		say, _ := json.Marshal(SayIn{Type: "say", Room: c.room, Text: strconv.FormatInt(time.Now().UnixNano(), 10) + " " + strconv.Itoa(k)})
		if err := c.conn.WriteMessage(gws.OpcodeText, say); err != nil {
			return res, fmt.Errorf("loadtest: client %d sends: %w", c.id, err)
		}
		sentPerRoom[c.room]++
		res.Sent++
	}

	// Wait (up to 10 s) for every accepted message to reach every member.
	expected := func() int {
		total := 0
		rejected := map[string]int{}
		for _, c := range clients {
			c.mu.Lock()
			rejected[c.room] += c.rejected
			c.mu.Unlock()
		}
		for room, n := range sentPerRoom {
			total += (n - rejected[room]) * members[room]
		}
		return total
	}
	delivered := func() int {
		total := 0
		for _, c := range clients {
			c.mu.Lock()
			total += len(c.seen)
			c.mu.Unlock()
		}
		return total
	}
	for deadline := time.Now().Add(10 * time.Second); delivered() < expected() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // late duplicates
	var lat []time.Duration
	var last time.Time
	for _, c := range clients {
		c.mu.Lock()
		res.Rejected += c.rejected
		res.Duplicated += c.dups
		lat = append(lat, c.latencies...)
		if c.last.After(last) {
			last = c.last
		}
		c.mu.Unlock()
	}
	res.Expected, res.Delivered = expected(), delivered()
	res.Lost = max(res.Expected-res.Delivered, 0)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)*50/100]
		res.P99 = lat[len(lat)*99/100]
		res.PerSecond = float64(res.Delivered) / last.Sub(start).Seconds()
	}
	return res, nil
}
