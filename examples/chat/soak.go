package main

// The soak: `go run ./examples/chat soak [-duration 60s]` starts the chat
// in this process on a loopback port (a temporary --db), warms it up, and
// then for -duration runs mixed traffic: HTTP workers (GET /me, GET
// /rooms, GET /rooms/{room}/messages with a token, and every few rounds a
// sign-up and a log-in) and WebSocket clients (connected, joined to a
// room, saying messages at -rate a second in all, one of them replaced
// every second: closed and a new one connected). It reads go_goroutines
// and go_memstats_heap_inuse_bytes from the chat's /metrics at the
// baseline (after the warm-up, idle), every second during the traffic and
// after it (every client closed, idle), and checks that the goroutines
// came back to the baseline within -goroutine-slack and the heap within
// -heap-factor of it. The chat runs in this process, so before the
// baseline and after readings it collects garbage (runtime.GC) first; no
// debug endpoint is needed. TestSoak runs it for a few seconds.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

// soakConfig is the soak's flags.
type soakConfig struct {
	Duration       time.Duration
	Clients        int     // WebSocket clients connected at once
	Rate           int     // WebSocket messages a second, all clients together
	Workers        int     // HTTP workers
	GoroutineSlack int     // goroutines allowed over the baseline after the run
	HeapFactor     float64 // heap in use allowed after the run, times the baseline
}

// soakSample is one reading of /metrics.
type soakSample struct {
	At         time.Duration // since the traffic started (negative: baseline)
	Goroutines int
	HeapInuse  float64 // bytes
}

func (s soakSample) String() string {
	return fmt.Sprintf("%d goroutines, heap %.1f MiB", s.Goroutines, s.HeapInuse/(1<<20))
}

// soakResult is what a soak measured.
type soakResult struct {
	Baseline, Peak, After soakSample
	During                []soakSample
	HTTP, HTTPFailed      int64 // requests, and those not answered as expected
	Signups               int64
	WSSent, WSReceived    int64
	WSConnects            int64
}

func (r soakResult) String() string {
	return fmt.Sprintf("HTTP %d requests (%d failed, %d sign-ups and log-ins), WebSocket %d connects, %d sent, %d received; "+
		"baseline %v; peak %d goroutines, heap %.1f MiB; after %v (goroutines %+d, heap x%.2f)",
		r.HTTP, r.HTTPFailed, r.Signups, r.WSConnects, r.WSSent, r.WSReceived, r.Baseline,
		r.Peak.Goroutines, r.Peak.HeapInuse/(1<<20), r.After,
		r.After.Goroutines-r.Baseline.Goroutines, r.After.HeapInuse/r.Baseline.HeapInuse)
}

// soakMain runs the soak from a command line and prints its result.
func soakMain(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	cfg := soakConfig{}
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long the traffic runs (at most 2m)")
	fs.IntVar(&cfg.Clients, "clients", 20, "WebSocket clients connected at once")
	fs.IntVar(&cfg.Rate, "rate", 50, "WebSocket messages a second, all clients together (at most 8 per client)")
	fs.IntVar(&cfg.Workers, "workers", 4, "HTTP workers")
	fs.IntVar(&cfg.GoroutineSlack, "goroutine-slack", 5, "goroutines allowed over the baseline after the run")
	fs.Float64Var(&cfg.HeapFactor, "heap-factor", 2, "heap in use allowed after the run, times the baseline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := runSoak(cfg, os.Stderr)
	fmt.Printf("soak %v, %d clients, %d msg/s, %d HTTP workers: %v\n", cfg.Duration, cfg.Clients, cfg.Rate, cfg.Workers, res)
	return err
}

// soakWS is one WebSocket client of the soak.
type soakWS struct {
	gws.BuiltinEventHandler
	conn     *gws.Conn
	room     string
	joined   chan struct{}
	closed   chan struct{}
	received *atomic.Int64
}

func (c *soakWS) OnMessage(_ *gws.Conn, m *gws.Message) {
	b := m.Bytes()
	switch {
	case bytes.Contains(b, []byte(`"type":"joined"`)):
		select {
		case c.joined <- struct{}{}:
		default:
		}
	case bytes.Contains(b, []byte(`"type":"message"`)):
		c.received.Add(1)
	}
	m.Close()
}

func (c *soakWS) OnClose(*gws.Conn, error) { close(c.closed) }

// soakRun is the state of one soak.
type soakRun struct {
	cfg  soakConfig
	node *loadNode
	base string
	hc   *http.Client // traffic
	res  soakResult
	mu   sync.Mutex // res.During, res.Peak
}

// runSoak runs one soak; progress goes to logw. The result holds the
// figures even when a check failed (err).
func runSoak(cfg soakConfig, logw io.Writer) (soakResult, error) {
	switch {
	case cfg.Duration <= 0 || cfg.Duration > 2*time.Minute:
		return soakResult{}, fmt.Errorf("soak: -duration %v: want up to 2m", cfg.Duration)
	case cfg.Clients < 1 || cfg.Rate < 1 || cfg.Rate > 8*cfg.Clients:
		return soakResult{}, fmt.Errorf("soak: -clients %d, -rate %d: want at least one client and 1 to 8 messages a second per client", cfg.Clients, cfg.Rate)
	case cfg.Workers < 1 || cfg.GoroutineSlack < 0 || cfg.HeapFactor < 1:
		return soakResult{}, fmt.Errorf("soak: -workers %d, -goroutine-slack %d, -heap-factor %v: want 1 or more, 0 or more, 1 or more", cfg.Workers, cfg.GoroutineSlack, cfg.HeapFactor)
	}
	dir, err := os.MkdirTemp("", "chat-soak-")
	if err != nil {
		return soakResult{}, err
	}
	defer os.RemoveAll(dir)
	node, err := startLoadNode([]string{"--db", filepath.Join(dir, "chat.db"), "--auth-rate", "100000"})
	if err != nil {
		return soakResult{}, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Workers}
	s := &soakRun{cfg: cfg, node: node, base: "http://" + node.addr, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	err = s.run(logw)
	tr.CloseIdleConnections()
	if e := node.stop(); e != nil && err == nil {
		err = e
	}
	return s.res, err
}

func (s *soakRun) run(logw io.Writer) error {
	// Warm-up: every kind of request and a WebSocket round, so that lazy
	// set-up (pools, statements, metric series) is in the baseline.
	tok, err := s.signup("warmup")
	if err != nil {
		return err
	}
	if err := s.httpRound(tok, "soak0"); err != nil {
		return err
	}
	var received atomic.Int64
	c, err := s.connect(tok, "soak0", &received)
	if err != nil {
		return err
	}
	if err := s.say(c, "warm up"); err != nil {
		return err
	}
	if err := s.closeWS(c); err != nil {
		return err
	}
	if s.res.Baseline, err = s.settle(); err != nil {
		return err
	}
	fmt.Fprintf(logw, "soak: baseline %v\n", s.res.Baseline)

	// Traffic, by users signed up first.
	users := make([]string, s.cfg.Clients)
	for i := range users {
		if users[i], err = s.signup(fmt.Sprintf("soak%04d", i)); err != nil {
			return err
		}
	}
	start := time.Now()
	end := start.Add(s.cfg.Duration)
	var wg sync.WaitGroup
	errc := make(chan error, s.cfg.Workers+2)
	for w := range s.cfg.Workers {
		wg.Go(func() { errc <- s.httpWorker(w, users[w%len(users)], end) })
	}
	wg.Go(func() { errc <- s.wsTraffic(users, end, &received) })
	wg.Go(func() {
		for t := time.Now(); t.Before(end); t = time.Now() {
			time.Sleep(min(time.Second, time.Until(end)))
			if smp, err := s.sample(); err == nil {
				smp.At = time.Since(start)
				s.mu.Lock()
				s.res.During = append(s.res.During, smp)
				if smp.Goroutines > s.res.Peak.Goroutines {
					s.res.Peak.Goroutines = smp.Goroutines
				}
				s.res.Peak.HeapInuse = math.Max(s.res.Peak.HeapInuse, smp.HeapInuse)
				s.mu.Unlock()
				fmt.Fprintf(logw, "soak: %5.1fs %v\n", smp.At.Seconds(), smp)
			}
		}
		errc <- nil
	})
	wg.Wait()
	close(errc)
	for e := range errc {
		if e != nil && err == nil {
			err = e
		}
	}
	s.res.WSReceived = received.Load()
	if err != nil {
		return err
	}

	// After: every client closed, idle. Goroutines end a little after
	// their connections close: wait up to 10 s for the baseline.
	hub := ws.HubOf(s.node.app)
	for deadline := time.Now().Add(10 * time.Second); hub.NumConns() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("soak: %d WebSockets still open 10s after every client closed", hub.NumConns())
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s.res.After, err = s.settle(); err != nil {
			return err
		}
		if s.res.After.Goroutines <= s.res.Baseline.Goroutines+s.cfg.GoroutineSlack || time.Now().After(deadline) {
			break
		}
	}
	fmt.Fprintf(logw, "soak: after %v\n", s.res.After)
	var problems []string
	if s.res.HTTPFailed > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d HTTP requests failed", s.res.HTTPFailed, s.res.HTTP))
	}
	if s.res.WSReceived == 0 || s.res.HTTP == 0 {
		problems = append(problems, "no traffic got through")
	}
	if d := s.res.After.Goroutines - s.res.Baseline.Goroutines; d > s.cfg.GoroutineSlack {
		problems = append(problems, fmt.Sprintf("%d goroutines after the run, %d over the baseline of %d (slack %d)",
			s.res.After.Goroutines, d, s.res.Baseline.Goroutines, s.cfg.GoroutineSlack))
	}
	if f := s.res.After.HeapInuse / s.res.Baseline.HeapInuse; f > s.cfg.HeapFactor {
		problems = append(problems, fmt.Sprintf("heap in use %.1f MiB after the run, x%.2f the baseline of %.1f MiB (allowed x%v)",
			s.res.After.HeapInuse/(1<<20), f, s.res.Baseline.HeapInuse/(1<<20), s.cfg.HeapFactor))
	}
	if len(problems) > 0 {
		return errors.New("soak: " + strings.Join(problems, "; "))
	}
	return nil
}

// settle closes the traffic client's idle connections, collects garbage
// and reads /metrics.
func (s *soakRun) settle() (soakSample, error) {
	s.hc.CloseIdleConnections()
	runtime.GC()
	runtime.GC()
	return s.sample()
}

// sample reads go_goroutines and go_memstats_heap_inuse_bytes from
// /metrics, on a connection of its own that it closes.
func (s *soakRun) sample() (soakSample, error) {
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	res, err := cl.Get(s.base + "/metrics")
	if err != nil {
		return soakSample{}, fmt.Errorf("soak: GET /metrics: %w", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		return soakSample{}, fmt.Errorf("soak: GET /metrics: %d %v", res.StatusCode, err)
	}
	g, gok := metricValue(body, "go_goroutines")
	h, hok := metricValue(body, "go_memstats_heap_inuse_bytes")
	if !gok || !hok {
		return soakSample{}, errors.New("soak: /metrics has no go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return soakSample{At: -1, Goroutines: int(g), HeapInuse: h}, nil
}

// metricValue is the value of an unlabelled metric in the Prometheus
// text format.
func metricValue(body []byte, name string) (float64, bool) {
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

func (s *soakRun) do(method, path, tok string, body any, want int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	atomic.AddInt64(&s.res.HTTP, 1)
	res, err := s.hc.Do(req)
	if err != nil {
		atomic.AddInt64(&s.res.HTTPFailed, 1)
		return nil, fmt.Errorf("soak: %s %s: %w", method, path, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != want {
		atomic.AddInt64(&s.res.HTTPFailed, 1)
		return nil, fmt.Errorf("soak: %s %s: %d %s, want %d (%v)", method, path, res.StatusCode, b, want, err)
	}
	return b, nil
}

// signup signs name up and logs in, returning the log-in's token.
func (s *soakRun) signup(name string) (string, error) {
	cred := Credentials{Username: name, Password: "password-" + name}
	if _, err := s.do("POST", "/users", "", cred, http.StatusCreated); err != nil {
		return "", err
	}
	b, err := s.do("POST", "/login", "", cred, http.StatusOK)
	if err != nil {
		return "", err
	}
	atomic.AddInt64(&s.res.Signups, 1)
	var tok TokenOut
	if err := json.Unmarshal(b, &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("soak: log-in of %s: %s", name, b)
	}
	return tok.Token, nil
}

// httpRound is one round of the read requests.
func (s *soakRun) httpRound(tok, room string) error {
	if b, err := s.do("GET", "/me", tok, nil, http.StatusOK); err != nil {
		return err
	} else if !bytes.Contains(b, []byte(`"name"`)) {
		return fmt.Errorf("soak: GET /me: %s", b)
	}
	if _, err := s.do("GET", "/rooms", "", nil, http.StatusOK); err != nil {
		return err
	}
	_, err := s.do("GET", "/rooms/"+room+"/messages?limit=50", tok, nil, http.StatusOK)
	return err
}

// httpWorker runs read rounds until end, paced (10 ms apart) so that the
// shared machine keeps up, with a sign-up and log-in every 100 rounds
// (argon2id hashing costs 19 MiB and tens of milliseconds each).
func (s *soakRun) httpWorker(w int, tok string, end time.Time) error {
	for i := 0; time.Now().Before(end); i++ {
		if err := s.httpRound(tok, "soak"+strconv.Itoa(i%4)); err != nil {
			return err
		}
		if i%100 == 99 {
			if _, err := s.signup(fmt.Sprintf("w%dn%d", w, i)); err != nil {
				return err
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func (s *soakRun) connect(tok, room string, received *atomic.Int64) (*soakWS, error) {
	c := &soakWS{room: room, joined: make(chan struct{}, 1), closed: make(chan struct{}), received: received}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + s.node.addr + "/ws?token=" + tok, ReadMaxPayloadSize: 1 << 20})
	if err != nil {
		return nil, fmt.Errorf("soak: WebSocket connect: %w", err)
	}
	res.Body.Close()
	c.conn = conn
	atomic.AddInt64(&s.res.WSConnects, 1)
	go conn.ReadLoop()
	join, _ := json.Marshal(JoinIn{Type: "join", Room: room})
	if err := conn.WriteMessage(gws.OpcodeText, join); err != nil {
		return nil, err
	}
	select {
	case <-c.joined:
		return c, nil
	case <-time.After(10 * time.Second):
		conn.NetConn().Close()
		return nil, fmt.Errorf("soak: no joined for room %s within 10s", room)
	}
}

func (s *soakRun) say(c *soakWS, text string) error {
	b, _ := json.Marshal(SayIn{Type: "say", Room: c.room, Text: text})
	if err := c.conn.WriteMessage(gws.OpcodeText, b); err != nil {
		return fmt.Errorf("soak: WebSocket send: %w", err)
	}
	atomic.AddInt64(&s.res.WSSent, 1)
	return nil
}

// closeWS closes c with a close frame and waits for its read loop to end.
func (s *soakRun) closeWS(c *soakWS) error {
	_ = c.conn.WriteClose(1000, nil)
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		c.conn.NetConn().Close()
		<-c.closed
		return errors.New("soak: a WebSocket did not close within 10s of its close frame")
	}
	return nil
}

// wsTraffic keeps cfg.Clients connected (client i in room soak{i%4}),
// saying cfg.Rate messages a second in all, and replaces one a second.
func (s *soakRun) wsTraffic(users []string, end time.Time, received *atomic.Int64) (err error) {
	clients := make([]*soakWS, len(users))
	defer func() {
		for _, c := range clients {
			if c != nil {
				if e := s.closeWS(c); e != nil && err == nil {
					err = e
				}
			}
		}
	}()
	for i := range clients {
		if clients[i], err = s.connect(users[i], "soak"+strconv.Itoa(i%4), received); err != nil {
			return err
		}
	}
	interval := time.Second / time.Duration(s.cfg.Rate)
	start := time.Now()
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.After(end) {
			return nil
		}
		time.Sleep(time.Until(at))
		i := k % len(clients)
		if k%s.cfg.Rate == s.cfg.Rate-1 { // one a second: replace client i
			if err := s.closeWS(clients[i]); err != nil {
				return err
			}
			clients[i] = nil
			if clients[i], err = s.connect(users[i], "soak"+strconv.Itoa(i%4), received); err != nil {
				return err
			}
			continue
		}
		if err := s.say(clients[i], strconv.Itoa(k)); err != nil {
			return err
		}
	}
}
