package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// group is one table of the page: the sub-benchmarks of one benchmark.
type group struct {
	id, title, what string
	prefix          string   // sample name prefix, e.g. "GitHubAll/"
	graft           []string // the graft rows, compared with every other row
	metric          string   // "" for time per op (cpu-ns/op when measured), else a higher-is-better metric
}

var microGroups = []group{
	{"github-all", "Routing: all 203 GitHub API routes", "each op routes the 203 requests of the classic go-http-routing-benchmark set; handlers read every parameter and parse the issue number", "GitHubAll/", []string{"graft"}, ""},
	{"github-param3", "Routing: one 3-parameter route", "GET /repos/:owner/:repo/issues/:number with the whole set loaded; the handler reads the three parameters and parses the number", "GitHubParam3/", []string{"graft"}, ""},
	{"plaintext", "Plaintext", "GET / → Hello, World! as text/plain", "Plaintext/", []string{"graft"}, ""},
	{"json", "Small JSON response", `GET /json → {"message":"Hello, World!"}`, "JSON/", []string{"graft", "graft-typed"}, ""},
	{"echo-user", "Typed binding: JSON body, validated, echoed", `POST /users {"name":"alice","age":30}, name required, age ≥ 0`, "EchoUser/", []string{"graft", "graft-plain"}, ""},
	{"issue-params", "Typed binding: path and query params", "GET /repos/{owner}/{repo}/issues/{number}?state=open&page=2, string and integer params, checked, echoed", "IssueParams/", []string{"graft", "graft-plain"}, ""},
	{"endpoint", "Typed binding: path + query + JSON body → JSON", "POST /users/{id}?limit=N with a validated body (id ≥ 1, limit 1..100 default 10, name 1..50 runes, age 0..150)", "EndpointPeers/", []string{"graft"}, ""},
	{"endpoint-422", "A 422 with three failing fields", "the endpoint above with id 0, limit 500 and age 200: every peer answers 422 listing the three", "Endpoint422/", []string{"graft"}, ""},
	{"sse", "Server-sent events: a stream of 100 events", "GET /events → 100 `tick` events with JSON data, flushed one by one", "SSE/", []string{"graft"}, ""},
}

var wsGroups = []group{
	{"ws-echo-50", "WebSocket echo, 50 clients", "32-byte binary messages, round trips per second (higher is better)", "WSEcho/c50/", []string{"graft"}, "roundtrips/s"},
	{"ws-echo-1000", "WebSocket echo, 1,000 clients", "32-byte binary messages, round trips per second (higher is better)", "WSEcho/c1000/", []string{"graft"}, "roundtrips/s"},
	{"ws-broadcast-50", "WebSocket broadcast, 50 subscribers", "one 32-byte message to every subscriber, deliveries per second (higher is better)", "WSBroadcast/s50/", []string{"graft"}, "deliveries/s"},
	{"ws-broadcast-1000", "WebSocket broadcast, 1,000 subscribers", "one 32-byte message to every subscriber, deliveries per second (higher is better)", "WSBroadcast/s1000/", []string{"graft"}, "deliveries/s"},
}

// target is one of the benchmarks issue's targets.
type target struct {
	what     string
	a, b     string // sample names: the ratio a/b
	unit     string // "" for the time unit of the pair
	le       bool   // met when the ratio is ≤ bound (else ≥)
	bound    float64
	direct   bool   // the ratio is a's metric unit itself (b is unused)
	allocs0  string // a sample whose allocs/op must be 0 as well
	fewestOf string // a group prefix whose fewest allocs/op a must have
}

var targets = []target{
	{what: "Routing, all GitHub routes: graft/gin time (paired batches), 0 allocs", a: "RoutingPaired/all/gin", unit: "graft/peer", direct: true, le: true, bound: 0.9, allocs0: "GitHubAll/graft"},
	{what: "Routing, 3-param route (same work): graft/gin time (paired batches), 0 allocs", a: "RoutingPaired/param3/gin", unit: "graft/peer", direct: true, le: true, bound: 0.9, allocs0: "GitHubParam3/graft"},
	{what: "Typed binding: graft/net/http by hand", a: "EchoUser/graft", b: "EchoUser/nethttp", le: true, bound: 0.5, fewestOf: "EchoUser/"},
	{what: "Typed binding: graft/Fiber's hand-written bind", a: "EchoUser/graft", b: "EchoUser/fiber", le: true, bound: 1.0},
	{what: "Typed binding (path + query + body): graft/net/http", a: "EndpointPeers/graft", b: "EndpointPeers/nethttp", le: true, bound: 0.5, fewestOf: "EndpointPeers/"},
	{what: "JSON response: graft/Fiber time", a: "JSON/graft", b: "JSON/fiber", le: true, bound: 1.0},
	{what: "End to end plaintext: graft/net/http req/s", a: "E2E/plaintext/graft", b: "E2E/plaintext/nethttp", unit: "req/s", bound: 1.0},
	{what: "End to end JSON: graft/net/http req/s", a: "E2E/json/graft", b: "E2E/json/nethttp", unit: "req/s", bound: 1.0},
	{what: "End to end plaintext: graft/net/http requests per server CPU second", a: "E2E/plaintext/nethttp", b: "E2E/plaintext/graft", unit: "cpu-us/req", bound: 1.0},
	{what: "End to end JSON: graft/net/http requests per server CPU second", a: "E2E/json/nethttp", b: "E2E/json/graft", unit: "cpu-us/req", bound: 1.0},
	{what: "End to end plaintext: graft/net/http server instructions per request (callgrind)", a: "E2EInstr/plaintext/graft", b: "E2EInstr/plaintext/nethttp", unit: "instr/req", le: true, bound: 1.0},
	{what: "End to end JSON: graft/net/http server instructions per request (callgrind)", a: "E2EInstr/json/graft", b: "E2EInstr/json/nethttp", unit: "instr/req", le: true, bound: 1.0},
	{what: "WebSocket echo, 50 clients: graft/gws", a: "WSEcho/c50/graft", b: "WSEcho/c50/gws", unit: "roundtrips/s", bound: 0.95},
	{what: "WebSocket echo, 1,000 clients: graft/gws", a: "WSEcho/c1000/graft", b: "WSEcho/c1000/gws", unit: "roundtrips/s", bound: 0.95},
	{what: "WebSocket broadcast, 1,000 subscribers: graft/gws", a: "WSBroadcast/s1000/graft", b: "WSBroadcast/s1000/gws", unit: "deliveries/s", bound: 0.95},
	{what: "Idle WebSocket connection, RSS after GC: graft/gws", a: "WSIdleRSS/graft", b: "WSIdleRSS/gws", unit: "KiB/conn", le: true, bound: 1.1},
}

// timeUnit is the time metric of a comparison: cpu-ns/op when both sides
// report it (the process CPU time per op moves less with other tenants'
// load than wall time), else ns/op.
func (r *results) timeUnit(a, b string) string {
	if len(r.values(a, "cpu-ns/op")) > 0 && len(r.values(b, "cpu-ns/op")) > 0 {
		return "cpu-ns/op"
	}
	return "ns/op"
}

func writePage(r *results, out string) error {
	chartDir := filepath.Join(filepath.Dir(out), "bench")
	if err := os.MkdirAll(chartDir, 0o755); err != nil {
		return err
	}
	var p strings.Builder
	m := r.Meta
	fmt.Fprintf(&p, "# Benchmarks\n\n")
	took := m.Took
	if len(m.Steps) > 0 {
		var parts []string
		for _, st := range m.Steps {
			parts = append(parts, st.Step+" "+st.Took)
		}
		took += ": " + strings.Join(parts, ", ")
	}
	fmt.Fprintf(&p, "Generated by `bench/run`%s on %s (took %s); do not edit by hand: run it again. Raw results: `bench/.results/` (not committed); `go run ./cmd/benchrun -from .results` in `bench/` rebuilds this page from them.\n\n",
		map[bool]string{true: " --quick", false: ""}[m.Quick], m.Date, took)
	fmt.Fprintf(&p, "## Machine and method\n\n")
	fmt.Fprintf(&p, "- %s, %d CPUs (%s), %s, graft at `%s`\n", m.OS, m.CPUs, m.CPU, m.Go, m.Commit)
	fmt.Fprintf(&p, "- load average before %s, after %s (the machine is shared: other tenants' load is the noise the spreads below show)\n", m.LoadBefore, m.LoadAfter)
	var vs []string
	for k, v := range m.Versions {
		vs = append(vs, k+" "+v)
	}
	sort.Strings(vs)
	fmt.Fprintf(&p, "- peers: %s\n", strings.Join(vs, ", "))
	fmt.Fprintf(&p, "- %d interleaved rounds: each round runs every sub-benchmark of a group, so a ratio is taken within one round; tables give min / median / max over the rounds, ratios the median of the per-round ratios [min … max]. Time ratios use `cpu-ns/op` (process CPU time per op) when measured, else `ns/op`.\n", m.Rounds)
	fmt.Fprintf(&p, "- micro-benchmarks serve pre-built requests through a discarding ResponseWriter, so the framework is what is measured. Fiber runs on fasthttp, not net/http: it is driven with prepared `fasthttp.RequestCtx` values through its handler, which skips fasthttp's own parsing as the others skip net/http's; its figures compare handler paths, and the end-to-end table compares whole servers.\n")
	if m.NoFile != "" {
		fmt.Fprintf(&p, "- idle WebSocket memory: %s\n", m.NoFile)
	}
	p.WriteString("\n")

	fmt.Fprintf(&p, "## Targets\n\n| target | ratio | bound | met |\n|---|---:|---:|:---:|\n")
	for _, t := range targets {
		unit := t.unit
		if unit == "" {
			unit = r.timeUnit(t.a, t.b)
		}
		st := r.ratio(t.a, t.b, unit)
		if t.direct {
			st = statOf(r.values(t.a, unit))
		}
		if st.N == 0 {
			fmt.Fprintf(&p, "| %s | not measured | %s %.2f | – |\n", t.what, map[bool]string{true: "≤", false: "≥"}[t.le], t.bound)
			continue
		}
		met := (t.le && st.Median <= t.bound) || (!t.le && st.Median >= t.bound)
		extra := ""
		if t.allocs0 != "" {
			a := statOf(r.values(t.allocs0, "allocs/op"))
			if a.Max != 0 {
				met = false
			}
			extra = fmt.Sprintf(", %g allocs", a.Max)
		}
		if t.fewestOf != "" {
			mine := statOf(r.values(t.a, "allocs/op")).Median
			for _, n := range r.names(t.fewestOf) {
				if n != t.a && statOf(r.values(n, "allocs/op")).Median < mine {
					met = false
					extra += fmt.Sprintf(", %s has fewer allocs", strings.TrimPrefix(n, t.fewestOf))
				}
			}
			if !strings.Contains(extra, "fewer") {
				extra += fmt.Sprintf(", fewest allocs (%g)", mine)
			}
		}
		fmt.Fprintf(&p, "| %s | %s%s | %s %.2f | %s |\n", t.what, fmtRatio(st), extra,
			map[bool]string{true: "≤", false: "≥"}[t.le], t.bound, map[bool]string{true: "met", false: "**not met**"}[met])
	}
	p.WriteString("\n")

	p.WriteString("## Micro-benchmarks\n\n")
	for _, g := range microGroups {
		if err := writeGroup(&p, r, g, chartDir); err != nil {
			return err
		}
		if g.id == "github-param3" {
			writePaired(&p, r)
		}
	}
	if len(r.names("WSEcho/")) > 0 || len(r.names("WSBroadcast/")) > 0 {
		p.WriteString("## WebSocket\n\nServers: graft (`ws.Route`), raw gws (the engine under graft, as its README serves), gorilla/websocket (read loop plus a write goroutine per connection, as its chat example), coder/websocket (read loop, one writer at a time). The same minimal client drives all; each benchmark and server runs in its own process, twice per round in ABBA order (rotated by round, then reversed), so a ratio's two sides share the machine's drifting load.\n\n")
		for _, g := range wsGroups {
			if err := writeGroup(&p, r, g, chartDir); err != nil {
				return err
			}
		}
	}
	writeIdle(&p, r, chartDir)
	writeE2E(&p, r, chartDir)
	writeInstr(&p, r, chartDir)
	writeOwn(&p, r)
	// A hand-written section (the chat's load test, measured by
	// `go run ./examples/chat loadtest`, not by bench/run) goes in as it is.
	if b, err := os.ReadFile(filepath.Join(chartDir, "chat-load.md")); err == nil {
		p.WriteString(strings.TrimSpace(string(b)) + "\n\n")
	}
	if len(r.Skipped) > 0 {
		p.WriteString("## Not measured in this run\n\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&p, "- %s\n", s)
		}
		p.WriteString("\n")
	}
	return os.WriteFile(out, []byte(p.String()), 0o644)
}

// names lists the sample names with prefix, in first-seen order.
func (r *results) names(prefix string) []string {
	seen := map[string]bool{}
	var ns []string
	for _, s := range r.Samples {
		if strings.HasPrefix(s.Name, prefix) && !seen[s.Name] {
			seen[s.Name] = true
			ns = append(ns, s.Name)
		}
	}
	return ns
}

func fmtRatio(s stat) string {
	return fmt.Sprintf("**%.3f** [%.3f … %.3f]", s.Median, s.Min, s.Max)
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteString(" ")
			}
			b.WriteRune(c)
		}
		return b.String()
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func writeGroup(p *strings.Builder, r *results, g group, chartDir string) error {
	names := r.names(g.prefix)
	var rows []string
	for _, n := range names {
		if !strings.Contains(strings.TrimPrefix(n, g.prefix), "/") {
			rows = append(rows, n)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(p, "### %s\n\n%s.\n\n", g.title, g.what)
	var bars []bar
	if g.metric == "" {
		fmt.Fprintf(p, "| peer | ns/op min | median | max | cpu-ns/op median | B/op | allocs/op |")
		for _, gr := range g.graft {
			fmt.Fprintf(p, " %s / peer |", gr)
		}
		p.WriteString("\n|---|---:|---:|---:|---:|---:|---:|")
		for range g.graft {
			p.WriteString("---:|")
		}
		p.WriteString("\n")
		for _, n := range rows {
			peer := strings.TrimPrefix(n, g.prefix)
			ns := statOf(r.values(n, "ns/op"))
			cpu := statOf(r.values(n, "cpu-ns/op"))
			fmt.Fprintf(p, "| %s | %s | %s | %s | %s | %s | %s |", peer, fmtNum(ns.Min), fmtNum(ns.Median), fmtNum(ns.Max),
				fmtNum(cpu.Median), fmtNum(statOf(r.values(n, "B/op")).Median), fmtNum(statOf(r.values(n, "allocs/op")).Median))
			for _, gr := range g.graft {
				if peer == gr {
					p.WriteString(" |")
					continue
				}
				a := g.prefix + gr
				fmt.Fprintf(p, " %s |", fmtRatio(r.ratio(a, n, r.timeUnit(a, n))))
			}
			p.WriteString("\n")
			unit := "ns/op"
			if cpu.N > 0 {
				unit = "cpu-ns/op"
			}
			s := statOf(r.values(n, unit))
			bars = append(bars, bar{peer, s, isGraft(peer, g.graft)})
		}
	} else {
		fmt.Fprintf(p, "| server | %s min | median | max | graft / server |\n|---|---:|---:|---:|---:|\n", g.metric)
		for _, n := range rows {
			peer := strings.TrimPrefix(n, g.prefix)
			s := statOf(r.values(n, g.metric))
			ratio := ""
			if peer != g.graft[0] {
				ratio = fmtRatio(r.ratio(g.prefix+g.graft[0], n, g.metric))
			}
			fmt.Fprintf(p, "| %s | %s | %s | %s | %s |\n", peer, fmtNum(s.Min), fmtNum(s.Median), fmtNum(s.Max), ratio)
			bars = append(bars, bar{peer, s, isGraft(peer, g.graft)})
		}
	}
	unit := g.metric
	if unit == "" {
		unit = "CPU ns per op (lower is better)"
	} else {
		unit += " (higher is better)"
	}
	file := g.id + ".svg"
	if err := os.WriteFile(filepath.Join(chartDir, file), []byte(chart(g.title, unit, bars)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(p, "\n![%s](bench/%s)\n\n", g.title, file)
	return nil
}

func isGraft(peer string, gs []string) bool {
	for _, g := range gs {
		if g == peer {
			return true
		}
	}
	return false
}

func writeIdle(p *strings.Builder, r *results, chartDir string) {
	names := r.names("WSIdleRSS/")
	if len(names) == 0 {
		return
	}
	p.WriteString("### Memory per idle WebSocket connection\n\nServer process RSS (VmRSS after `runtime.GC` and `debug.FreeOSMemory`) with the connections open, less its RSS before them, over the count; the clients run in another process (`bench/cmd/wsidle`).\n\n| server | KiB/conn min | median | max | connections | graft / server |\n|---|---:|---:|---:|---:|---:|\n")
	var bars []bar
	for _, n := range names {
		peer := strings.TrimPrefix(n, "WSIdleRSS/")
		s := statOf(r.values(n, "KiB/conn"))
		ratio := ""
		if peer != "graft" {
			ratio = fmtRatio(r.ratio("WSIdleRSS/graft", n, "KiB/conn"))
		}
		fmt.Fprintf(p, "| %s | %.2f | %.2f | %.2f | %s | %s |\n", peer, s.Min, s.Median, s.Max, fmtNum(statOf(r.values(n, "conns")).Median), ratio)
		bars = append(bars, bar{peer, s, peer == "graft"})
	}
	if os.WriteFile(filepath.Join(chartDir, "ws-idle-rss.svg"), []byte(chart("Memory per idle WebSocket connection", "KiB of RSS per connection (lower is better)", bars)), 0o644) == nil {
		p.WriteString("\n![Memory per idle WebSocket connection](bench/ws-idle-rss.svg)\n")
	}
	p.WriteString("\n")
}

// writePaired is the table of BenchmarkRoutingPaired: graft and gin timed
// in alternating batches, the routing targets' figures.
func writePaired(p *strings.Builder, r *results) {
	names := r.names("RoutingPaired/")
	if len(names) == 0 {
		return
	}
	p.WriteString("### Routing, graft and gin in paired batches\n\nThe two routing tables above run one router after the other, each for 300 ms; on this shared machine the other tenants' load changes within those seconds by more than the routers differ, so their per-round ratios spread widely. `BenchmarkRoutingPaired` serves the same work through graft and gin in alternating batches of about 0.1 ms (8 ops of all 203 routes, or 1,024 ops of the 3-parameter route; graft first in one iteration, gin first in the next) and takes the ratio of the median batch times, which leaves out the batches a burst of load hit. The routing targets use it.\n\n| work | graft ns/op median | gin ns/op median | graft / gin min | median | max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, n := range names {
		s := statOf(r.values(n, "graft/peer"))
		fmt.Fprintf(p, "| %s | %s | %s | %.3f | **%.3f** | %.3f |\n", strings.TrimPrefix(n, "RoutingPaired/"),
			fmtNum(statOf(r.values(n, "graft-ns/op")).Median), fmtNum(statOf(r.values(n, "peer-ns/op")).Median), s.Min, s.Median, s.Max)
	}
	p.WriteString("\n")
}

func writeE2E(p *strings.Builder, r *results, chartDir string) {
	for i, sec := range []struct{ prefix, title, note string }{
		{"E2E/", "End to end over loopback (wrk, HTTP/1.1)", "`wrk -t1 -c64 -d2s --latency`, each server twice per round in ABBA order (rotated by round, then reversed) after one 1 s warm-up each; the three servers (`bench/cmd/plaintext`) run at once, pinned to CPU 0 with taskset, wrk to CPU 1. graft runs its own server (`App.Serve`), net/http a ServeMux on an `http.Server` with the same timeouts and header limit, Fiber v3 its fasthttp server. Server CPU is the server process's CPU time during the run (its threads' schedstat) over the requests served; the last column compares it (server's CPU per request / graft's: above 1, graft serves a request on less CPU)."},
		{"E2EH2/", "End to end over loopback (h2load, HTTP/2 cleartext)", "`h2load -c16 -m16` (h2c prior knowledge), ABBA and pinned as above; Fiber (fasthttp) does not serve HTTP/2."},
	} {
		if len(r.names(sec.prefix)) == 0 {
			continue
		}
		var bars []bar
		fmt.Fprintf(p, "## %s\n\n%s\n\n| work | server | req/s min | median | max | p99 ms median | server CPU µs/req median | graft / server (req/s) | graft / server (requests per CPU second) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n", sec.title, sec.note)
		for _, work := range []string{"plaintext", "json"} {
			for _, n := range r.names(sec.prefix + work + "/") {
				srv := strings.TrimPrefix(n, sec.prefix+work+"/")
				s := statOf(r.values(n, "req/s"))
				p99 := "–"
				if v := r.values(n, "p99-ms"); len(v) > 0 {
					p99 = fmt.Sprintf("%.2f", statOf(v).Median)
				}
				cpu := "–"
				if v := r.values(n, "cpu-us/req"); len(v) > 0 {
					cpu = fmt.Sprintf("%.2f", statOf(v).Median)
				}
				ratio, cpuRatio := "", ""
				if srv != "graft" {
					ratio = fmtRatio(r.ratio(sec.prefix+work+"/graft", n, "req/s"))
					if st := r.ratio(n, sec.prefix+work+"/graft", "cpu-us/req"); st.N > 0 {
						cpuRatio = fmtRatio(st)
					}
				}
				fmt.Fprintf(p, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", work, srv, fmtNum(s.Min), fmtNum(s.Median), fmtNum(s.Max), p99, cpu, ratio, cpuRatio)
				bars = append(bars, bar{work + " " + srv, s, srv == "graft"})
			}
		}
		file := []string{"e2e-http1.svg", "e2e-http2.svg"}[i]
		if os.WriteFile(filepath.Join(chartDir, file), []byte(chart(sec.title, "requests per second (higher is better)", bars)), 0o644) == nil {
			fmt.Fprintf(p, "\n![%s](bench/%s)\n", sec.title, file)
		}
		p.WriteString("\n")
	}
}

// writeInstr is the table of the instructions step: instructions per
// request of each end-to-end server, from callgrind.
func writeInstr(p *strings.Builder, r *results, chartDir string) {
	if len(r.names("E2EInstr/")) == 0 {
		return
	}
	fmt.Fprintf(p, "## End to end: instructions per request (callgrind)\n\nThe servers above, each under valgrind's callgrind (`GOMAXPROCS=1`, as when pinned to one core; `GODEBUG=asyncpreemptoff=1`, which valgrind needs), serving GET requests over %d keep-alive connections: per work, %d warm-up requests, then %d times the counters are zeroed, %d requests are served and the counters are read (the rounds columns). The count is every user-space instruction the server process runs for those requests: net/http or fasthttp, the framework, the Go runtime and its garbage collector; the kernel's share (the syscalls: one read and one write per request for each server) is not in it. Unlike req/s, which moves by ±10 %% between two runs of the same server on this shared machine, the count repeats to about 1 %%: it is the figure that says whether graft adds work to a request.\n\n| work | server | instructions/request min | median | max | graft / server |\n|---|---|---:|---:|---:|---:|\n", instrConns, instrWarmup, instrReps, instrRequests)
	var bars []bar
	for _, work := range []string{"plaintext", "json"} {
		for _, n := range r.names("E2EInstr/" + work + "/") {
			srv := strings.TrimPrefix(n, "E2EInstr/"+work+"/")
			s := statOf(r.values(n, "instr/req"))
			ratio := ""
			if srv != "graft" {
				ratio = fmtRatio(r.ratio("E2EInstr/"+work+"/graft", n, "instr/req"))
			}
			fmt.Fprintf(p, "| %s | %s | %s | %s | %s | %s |\n", work, srv, fmtNum(s.Min), fmtNum(s.Median), fmtNum(s.Max), ratio)
			bars = append(bars, bar{work + " " + srv, s, srv == "graft"})
		}
	}
	if os.WriteFile(filepath.Join(chartDir, "e2e-instructions.svg"), []byte(chart("End to end: instructions per request", "user-space instructions per request, callgrind (lower is better)", bars)), 0o644) == nil {
		p.WriteString("\n![End to end: instructions per request](bench/e2e-instructions.svg)\n")
	}
	p.WriteString("\n")
}

// ownPrefixes are graft's own-cost benchmarks listed in the last table
// (anything measured that no peer table shows).
func writeOwn(p *strings.Builder, r *results) {
	shown := map[string]bool{}
	for _, g := range append(append([]group(nil), microGroups...), wsGroups...) {
		for _, n := range r.names(g.prefix) {
			shown[n] = true
		}
	}
	var rows []string
	for _, n := range r.names("") {
		if shown[n] || strings.HasPrefix(n, "E2E") || strings.HasPrefix(n, "RoutingPaired/") || strings.HasPrefix(n, "WSIdleRSS/") || strings.HasPrefix(n, "WS") && strings.Count(n, "/") >= 2 {
			continue
		}
		rows = append(rows, n)
	}
	if len(rows) == 0 {
		return
	}
	p.WriteString("## graft's own costs\n\nThe core package's, the dependency graph's and the extensions' benchmarks (extensions 0/1/10 with pools on and off, plugins 0/1/5, property access, scoped resolution, topic publish, …), as measured in the same rounds.\n\n| benchmark | ns/op min | median | max | B/op | allocs/op |\n|---|---:|---:|---:|---:|---:|\n")
	for _, n := range rows {
		s := statOf(r.values(n, "ns/op"))
		if s.N == 0 {
			continue
		}
		fmt.Fprintf(p, "| %s | %s | %s | %s | %s | %s |\n", n, fmtNum(s.Min), fmtNum(s.Median), fmtNum(s.Max),
			fmtNum(statOf(r.values(n, "B/op")).Median), fmtNum(statOf(r.values(n, "allocs/op")).Median))
	}
	p.WriteString("\n")
}

// bar is one row of a chart: the median with a min–max whisker.
type bar struct {
	label string
	s     stat
	graft bool
}

// chart draws a horizontal bar chart as a standalone SVG.
func chart(title, unit string, bars []bar) string {
	const (
		width  = 720
		left   = 130
		right  = 110
		rowH   = 24
		top    = 46
		bottom = 16
	)
	h := top + rowH*len(bars) + bottom
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.s.Max)
	}
	if maxV == 0 {
		maxV = 1
	}
	scale := float64(width-left-right) / maxV
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, h, width, h)
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, h)
	fmt.Fprintf(&s, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&s, `<text x="8" y="36" fill="#555">median, whisker min–max over rounds; %s</text>`+"\n", html.EscapeString(unit))
	for i, b := range bars {
		y := top + i*rowH
		color := "#8aa4c8"
		if b.graft {
			color = "#2f7d4f"
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+16, html.EscapeString(b.label))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y+4, b.s.Median*scale, rowH-8, color)
		x0, x1 := float64(left)+b.s.Min*scale, float64(left)+b.s.Max*scale
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/>`+"\n", x0, y+12, x1, y+12)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/>`+"\n", x0, y+7, x0, y+17, x1, y+7, x1, y+17)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" fill="#222">%s</text>`+"\n", x1+6, y+16, fmtNum(b.s.Median))
	}
	s.WriteString("</svg>\n")
	return s.String()
}
