package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runner runs the steps of one benchrun.
type runner struct {
	opts     options
	benchDir string
	raw      string // raw outputs
	tmp      string // binaries
	res      results
}

// suite is one test binary's benchmarks measured in the micro step.
type suite struct {
	name  string // binary and raw file name
	pkg   string // import path
	bench string // -test.bench pattern
	quick bool   // also in --quick runs
	once  bool   // one round is enough (graft's own costs, no peer to compare with)
}

// microSuites: the peers (bench module) and graft's own costs (core, di,
// ws and the batteries' packages; a suite whose package does not exist is
// skipped).
var microSuites = []suite{
	{"peers", "github.com/graftgo/graft/bench",
		`^Benchmark(GitHubAll|GitHubParam3|RoutingPaired|Plaintext|JSON|EchoUser|IssueParams|EndpointPeers|Endpoint422|SSE)$`, true, false},
	{"core", "github.com/graftgo/graft",
		`^Benchmark(ExtensionOverhead|ExtensionOne|PluginOverhead|PropertyGetSet|CtxAcquireRelease|ServeHTTPParam|Endpoint|PlainJSON)$`, true, false},
	{"di", "github.com/graftgo/graft/di", `^Benchmark(ScopedChain3|Singleton|Transient)$`, false, true},
	{"ws", "github.com/graftgo/graft/ws", `^Benchmark(HistoryPublish|Recover|Presence)`, false, true},
	{"broker", "github.com/graftgo/graft/broker/brokertest", `^Benchmark`, false, true},
	{"nats", "github.com/graftgo/graft/broker/nats", `^Benchmark(CrossNode|History)`, false, true},
	{"redis", "github.com/graftgo/graft/broker/redis", `^Benchmark(CrossNode|History)`, false, true},
	// The batteries, each next to the bare endpoint it wraps.
	{"observability", "github.com/graftgo/graft/plugins/tracing", `^BenchmarkObservability`, false, true},
	{"logging", "github.com/graftgo/graft/plugins/logging", `^Benchmark`, false, true},
	{"metrics", "github.com/graftgo/graft/plugins/metrics", `^Benchmark`, false, true},
	{"ratelimit", "github.com/graftgo/graft/plugins/ratelimit", `^Benchmark`, false, true},
	{"jwt", "github.com/graftgo/graft/plugins/auth/jwt", `^Benchmark`, false, true},
	{"auth", "github.com/graftgo/graft/plugins/auth", `^Benchmark`, false, true},
	{"cors", "github.com/graftgo/graft/plugins/cors", `^Benchmark`, false, true},
	{"requestid", "github.com/graftgo/graft/plugins/requestid", `^Benchmark`, false, true},
	{"bus", "github.com/graftgo/graft/plugins/bus", `^Benchmark`, false, true},
	{"compress", "github.com/graftgo/graft/ext/compress", `^Benchmark`, false, true},
	{"etag", "github.com/graftgo/graft/ext/etag", `^Benchmark`, false, true},
	{"static", "github.com/graftgo/graft/ext/static", `^Benchmark`, false, true},
	{"secure", "github.com/graftgo/graft/ext/secure", `^Benchmark`, false, true},
	{"cookies", "github.com/graftgo/graft/ext/cookies", `^Benchmark`, false, true},
	{"sessions", "github.com/graftgo/graft/ext/sessions", `^Benchmark`, false, true},
	{"sqlite", "github.com/graftgo/graft/ext/sqlite", `^Benchmark`, false, true},
	{"healthcheck", "github.com/graftgo/graft/ext/healthcheck", `^Benchmark`, false, true},
}

func (r *runner) all() (*results, error) {
	if err := os.MkdirAll(r.tmp, 0o755); err != nil {
		return nil, err
	}
	r.res.Meta = collectMeta(r.benchDir, r.opts)
	steps := map[string]bool{}
	for s := range strings.SplitSeq(r.opts.only, ",") {
		steps[strings.TrimSpace(s)] = true
	}
	for _, st := range []struct {
		name string
		run  func() error
	}{
		{"micro", r.micro},
		{"ws", r.ws},
		{"mem", func() error {
			if r.opts.quick {
				r.skip("idle memory per WebSocket connection: not run with --quick (it takes about 10 s per server and round)")
				return nil
			}
			return r.mem()
		}},
		{"e2e", r.e2e},
		{"instr", r.instructions},
	} {
		if !steps[st.name] {
			continue
		}
		start, before := time.Now(), len(r.res.Samples)
		if err := st.run(); err != nil {
			return nil, err
		}
		if len(r.res.Samples) > before { // a skipped step says why instead
			r.timed(st.name, start)
		}
	}
	r.res.Meta.LoadAfter = loadAvg()
	return &r.res, nil
}

// timed records how long a step took since start, in the log and on the
// page.
func (r *runner) timed(step string, start time.Time) {
	d := time.Since(start).Round(time.Second)
	r.logf("%s took %s", step, d)
	r.res.Meta.Steps = append(r.res.Meta.Steps, stepTime{step, d.String()})
}

func (r *runner) skip(why string) {
	fmt.Println("benchrun: skipped:", why)
	r.res.Skipped = append(r.res.Skipped, why)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Printf("benchrun: "+format+"\n", args...)
}

// build compiles pkg's test binary; ok is false when the package does
// not exist in this checkout.
func (r *runner) build(name, pkg string) (string, bool, error) {
	bin := filepath.Join(r.tmp, name+".test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, pkg)
	cmd.Dir = r.benchDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("no required module provides package")) ||
			bytes.Contains(out, []byte("cannot find package")) ||
			bytes.Contains(out, []byte("is not in std")) ||
			bytes.Contains(out, []byte("matched no packages")) ||
			bytes.Contains(out, []byte("directory not found")) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("go test -c %s: %v\n%s", pkg, err, out)
	}
	if _, err := os.Stat(bin); err != nil { // a package without tests
		return "", false, nil
	}
	return bin, true, nil
}

// runBench runs a test binary's benchmarks and records the samples.
//
// Samples of a suite other than the peers' are named suite/benchmark, so
// that same-named benchmarks of two packages (broker/nats and
// broker/redis) stay apart.
func (r *runner) runBench(bin, pattern, benchtime string, round int, rawName string) error {
	args := []string{"-test.run", "^$", "-test.bench", pattern, "-test.benchmem", "-test.benchtime", benchtime}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(bin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if f, ferr := os.OpenFile(filepath.Join(r.raw, rawName+".txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); ferr == nil {
		fmt.Fprintf(f, "# round %d: %s %s\n", round, filepath.Base(bin), strings.Join(args, " "))
		f.Write(out.Bytes())
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), pattern, err, tail(out.String(), 2000))
	}
	ss := parseBench(out.String(), round)
	if suite, ok := strings.CutPrefix(rawName, "micro-"); ok && suite != "peers" {
		for i := range ss {
			ss[i].Name = suite + "/" + ss[i].Name
		}
	}
	r.res.Samples = append(r.res.Samples, ss...)
	return nil
}

func (r *runner) micro() error {
	bt := "300ms"
	if r.opts.quick {
		bt = "50ms"
	}
	type built struct {
		suite
		bin string
	}
	// Compiled one per CPU at once (at least two: go links one binary per
	// process), kept in the suites' order.
	var todo []suite
	for _, s := range microSuites {
		if !r.opts.quick || s.quick {
			todo = append(todo, s)
		}
	}
	type outcome struct {
		bin string
		ok  bool
		err error
	}
	outs := make([]outcome, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(2, runtime.NumCPU()))
	for i, s := range todo {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			bin, ok, err := r.build(s.name, s.pkg)
			outs[i] = outcome{bin, ok, err}
		})
	}
	wg.Wait()
	var bins []built
	for i, s := range todo {
		o := outs[i]
		if o.err != nil {
			return o.err
		}
		if !o.ok {
			r.skip(fmt.Sprintf("micro suite %s: package %s is not in this checkout", s.name, s.pkg))
			continue
		}
		bins = append(bins, built{s, o.bin})
	}
	for round := 1; round <= r.opts.rounds; round++ {
		for _, b := range bins {
			if b.once && round > 1 {
				continue
			}
			r.logf("micro round %d/%d: %s", round, r.opts.rounds, b.name)
			if err := r.runBench(b.bin, b.bench, bt, round, "micro-"+b.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// wsServers are the sub-benchmark names of the WebSocket benchmarks.
var wsServers = []string{"graft", "gws", "gorilla", "coder"}

// wsGroupsRun are the WebSocket benchmarks, each run for one server at a
// time.
var wsGroupsRun = []string{"^BenchmarkWSEcho$/^c50$", "^BenchmarkWSEcho$/^c1000$", "^BenchmarkWSBroadcast$/^s50$", "^BenchmarkWSBroadcast$/^s1000$"}

// abba is the order of one round: the servers rotated by round, then the
// same order reversed, so that each server runs once early and once late
// in the round and a drift of the machine's load over the round cancels
// out of every ratio (graft, gws, gorilla, coder, coder, gorilla, gws,
// graft).
func abba(servers []string, round int) []string {
	out := make([]string, 0, 2*len(servers))
	for i := range servers {
		out = append(out, servers[(i+round)%len(servers)])
	}
	for i := len(servers) - 1; i >= 0; i-- {
		out = append(out, out[i])
	}
	return out
}

func (r *runner) ws() error {
	bin, ok, err := r.build("peers", "github.com/graftgo/graft/bench")
	if err != nil || !ok {
		return fmt.Errorf("building the bench module's test binary: %v", err)
	}
	bt := "500ms"
	if r.opts.quick {
		bt = "100ms"
	}
	for round := 1; round <= r.opts.rounds; round++ {
		for _, g := range wsGroupsRun {
			for _, srv := range abba(wsServers, round) {
				r.logf("ws round %d/%d: %s %s", round, r.opts.rounds, g, srv)
				if err := r.runBench(bin, g+"/^"+srv+"$", bt, round, "ws"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mem measures the RSS an idle WebSocket connection costs each server:
// cmd/wsidle serves, a second wsidle process dials n connections, and the
// server's VmRSS after a forced GC, less its RSS before the clients, over n.
func (r *runner) mem() error {
	bin := filepath.Join(r.tmp, "wsidle")
	if out, err := r.goBuild(bin, "./cmd/wsidle"); err != nil {
		return fmt.Errorf("building cmd/wsidle: %v\n%s", err, out)
	}
	n := noFileTarget()
	if n < 1000 {
		r.skip(fmt.Sprintf("idle memory: the descriptor limit allows only %d connections (raise it with ulimit -n)", n))
		return nil
	}
	r.res.Meta.NoFile = fmt.Sprintf("%d connections (descriptor limit %d per process; server and clients are separate processes)", n, noFileLimit())
	rounds := min(r.opts.rounds, 3)
	for round := 1; round <= rounds; round++ {
		for i := range wsServers {
			srv := wsServers[(i+round)%len(wsServers)]
			r.logf("mem round %d/%d: %s, %d connections", round, rounds, srv, n)
			kib, err := idleRSS(bin, srv, n)
			if err != nil {
				return fmt.Errorf("idle memory of %s: %v", srv, err)
			}
			r.res.Samples = append(r.res.Samples, sample{Name: "WSIdleRSS/" + srv, Round: round,
				Metrics: map[string]float64{"KiB/conn": kib, "conns": float64(n)}})
		}
	}
	return nil
}

func (r *runner) goBuild(bin, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = r.benchDir
	return cmd.CombinedOutput()
}

// e2e runs wrk (and h2load) against cmd/plaintext's servers, all three
// started at once on CPU 0 (the idle ones cost nothing), the load on
// CPU 1. Each round measures every server twice in ABBA order with short
// runs, so that the machine's other load, which drifts over seconds, falls
// on both sides of a ratio; each run also reads the server process's CPU
// time, for the CPU per request.
func (r *runner) e2e() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		r.skip("end to end (wrk): wrk is not installed; bench/run installs it with apt-get when it runs as root (apt-get install -y wrk)")
		return nil
	}
	bin := filepath.Join(r.tmp, "plaintext")
	if out, err := r.goBuild(bin, "./cmd/plaintext"); err != nil {
		return fmt.Errorf("building cmd/plaintext: %v\n%s", err, out)
	}
	pin := runtime.NumCPU() >= 2
	if _, err := exec.LookPath("taskset"); err != nil {
		pin = false
	}
	dur, h2n := "2s", "40000"
	if r.opts.quick {
		dur, h2n = "1s", "10000"
	}
	servers := []string{"graft", "nethttp", "fiber"}
	_, h2err := exec.LookPath("h2load")
	if h2err != nil {
		r.skip("HTTP/2 end to end (h2load): h2load is not installed (apt-get install -y nghttp2-client)")
	}
	type running struct {
		url string
		pid int
	}
	srvs := map[string]running{}
	for _, srv := range servers {
		url, pid, stop, err := startServer(bin, pin, "-server", srv, "-addr", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("starting %s: %v", srv, err)
		}
		defer stop()
		srvs[srv] = running{url, pid}
	}
	works := []struct{ path, name string }{{"/", "plaintext"}, {"/json", "json"}}
	// One warm-up each: connections, the servers' pools and the CPU's
	// caches and clock.
	for _, w := range works {
		for _, srv := range servers {
			if _, err := loadTool(pin, "wrk", "-t1", "-c64", "-d1s", srvs[srv].url+w.path); err != nil {
				return err
			}
		}
	}
	for round := 1; round <= r.opts.rounds; round++ {
		for _, w := range works {
			for _, srv := range abba(servers, round) {
				r.logf("e2e round %d/%d: %s %s", round, r.opts.rounds, w.name, srv)
				s := srvs[srv]
				m, err := r.measure(pin, s.pid, parseWrk, fmt.Sprintf("round %d: wrk against %s%s", round, srv, w.path),
					"wrk", "-t1", "-c64", "-d"+dur, "--latency", s.url+w.path)
				if err != nil {
					return err
				}
				r.res.Samples = append(r.res.Samples, sample{Name: "E2E/" + w.name + "/" + srv, Round: round, Metrics: m})
			}
			if h2err != nil {
				continue
			}
			for _, srv := range abba(servers[:2], round) { // Fiber (fasthttp) has no HTTP/2
				s := srvs[srv]
				m, err := r.measure(pin, s.pid, parseH2load, fmt.Sprintf("round %d: h2load against %s%s", round, srv, w.path),
					"h2load", "-n", h2n, "-c", "16", "-m", "16", s.url+w.path)
				if err != nil {
					return err
				}
				r.res.Samples = append(r.res.Samples, sample{Name: "E2EH2/" + w.name + "/" + srv, Round: round, Metrics: m})
			}
		}
	}
	return nil
}

// measure runs a load tool against the server process pid, keeps its
// output in the raw results under label, and returns its figures with the
// server's CPU time per request ("cpu-us/req") added.
func (r *runner) measure(pin bool, pid int, parse func(string) (map[string]float64, error), label, tool string, args ...string) (map[string]float64, error) {
	cpu0 := processCPU(pid)
	out, err := loadTool(pin, tool, args...)
	if err != nil {
		return nil, err
	}
	cpu := processCPU(pid) - cpu0
	r.appendRaw("e2e", fmt.Sprintf("# %s (server CPU %v)\n%s", label, cpu, out))
	m, err := parse(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", label, err, out)
	}
	if m["requests"] > 0 && cpu > 0 {
		m["cpu-us/req"] = float64(cpu.Microseconds()) / m["requests"]
	}
	return m, nil
}

// processCPU is the CPU time process pid has used so far: the sum of its
// threads' run times from /proc/PID/task/*/schedstat (nanoseconds), else
// utime + stime from /proc/PID/stat (clock ticks), else 0.
func processCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			sum += time.Duration(ns)
		}
	}
	if sum > 0 {
		return sum
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

func (r *runner) appendRaw(name, s string) {
	if f, err := os.OpenFile(filepath.Join(r.raw, name+".txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		f.WriteString(s)
		f.Close()
	}
}

// startServer starts a server binary (on CPU 0 when pinned) and waits for
// its "listening on URL" line.
func startServer(bin string, pin bool, args ...string) (string, int, func(), error) {
	name, argv := bin, args
	if pin {
		name, argv = "taskset", append([]string{"-c", "0", bin}, args...)
	}
	cmd := exec.Command(name, argv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- u
			}
		}
	}()
	// taskset execs the server, so the process is the server's.
	select {
	case u := <-lines:
		return u, cmd.Process.Pid, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", 0, nil, errors.New("no \"listening on\" line within 30 s")
	}
}

// loadTool runs a load generator (on CPU 1 when pinned).
func loadTool(pin bool, tool string, args ...string) (string, error) {
	name, argv := tool, args
	if pin {
		name, argv = "taskset", append([]string{"-c", "1", tool}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, argv...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

var (
	wrkRPS  = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkP99  = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)`)
	wrkReqs = regexp.MustCompile(`(?m)^\s+(\d+) requests in `)
	wrkErr  = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses:\s+(\d+)`)
	h2RPS   = regexp.MustCompile(`finished in [0-9.]+\w+, ([0-9.]+) req/s`)
	h2OK    = regexp.MustCompile(`requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed`)
)

func parseWrk(out string) (map[string]float64, error) {
	if m := wrkErr.FindStringSubmatch(out); m != nil {
		return nil, fmt.Errorf("%s answers were errors", m[1])
	}
	rps := wrkRPS.FindStringSubmatch(out)
	p99 := wrkP99.FindStringSubmatch(out)
	if rps == nil || p99 == nil {
		return nil, errors.New("no Requests/sec or 99% latency line")
	}
	v, _ := strconv.ParseFloat(rps[1], 64)
	l, _ := strconv.ParseFloat(p99[1], 64)
	switch p99[2] {
	case "us":
		l /= 1000
	case "s":
		l *= 1000
	}
	m := map[string]float64{"req/s": v, "p99-ms": l}
	if n := wrkReqs.FindStringSubmatch(out); n != nil {
		m["requests"], _ = strconv.ParseFloat(n[1], 64)
	}
	return m, nil
}

func parseH2load(out string) (map[string]float64, error) {
	m := h2RPS.FindStringSubmatch(out)
	ok := h2OK.FindStringSubmatch(out)
	if m == nil || ok == nil {
		return nil, errors.New("no req/s or requests line")
	}
	if ok[2] != "0" {
		return nil, fmt.Errorf("%s requests failed", ok[2])
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	n, _ := strconv.ParseFloat(ok[1], 64)
	return map[string]float64{"req/s": v, "requests": n}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
