package main

import (
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const round1 = `goos: linux
BenchmarkGitHubAll/graft-2      1000   20000 ns/op   19000 cpu-ns/op   0 B/op   0 allocs/op
BenchmarkGitHubAll/gin-2        1000   25000 ns/op   25000 cpu-ns/op   0 B/op   0 allocs/op
BenchmarkWSEcho/c50/graft-2      200   23013 ns/op   43470 roundtrips/s
BenchmarkRoutingPaired/all/gin-2  1000  300000 ns/op  15000 graft-ns/op  0.8500 graft/peer  17647 peer-ns/op
PASS
`

const round2 = `BenchmarkGitHubAll/graft-2      1000   30000 ns/op   30000 cpu-ns/op   0 B/op   0 allocs/op
BenchmarkGitHubAll/gin-2        1000   30000 ns/op   30000 cpu-ns/op   0 B/op   0 allocs/op
BenchmarkRoutingPaired/all/gin-2  1000  300000 ns/op  16000 graft-ns/op  0.9100 graft/peer  17582 peer-ns/op
`

func TestParseBench(t *testing.T) {
	ss := parseBench(round1, 1)
	if len(ss) != 4 {
		t.Fatalf("%d samples, want 4: %+v", len(ss), ss)
	}
	if ss[0].Name != "GitHubAll/graft" || ss[0].Metrics["cpu-ns/op"] != 19000 || ss[0].Metrics["allocs/op"] != 0 {
		t.Errorf("first sample %+v", ss[0])
	}
	if ss[2].Name != "WSEcho/c50/graft" || ss[2].Metrics["roundtrips/s"] != 43470 {
		t.Errorf("ws sample %+v", ss[2])
	}
}

// TestRatioWithinRounds checks that a ratio is taken round by round: the
// median of 0.76 and 1.0, not the ratio of medians.
func TestRatioWithinRounds(t *testing.T) {
	r := &results{Samples: append(parseBench(round1, 1), parseBench(round2, 2)...)}
	st := r.ratio("GitHubAll/graft", "GitHubAll/gin", "cpu-ns/op")
	if st.N != 2 || st.Min != 0.76 || st.Max != 1 || st.Median != 0.88 {
		t.Errorf("ratio %+v, want min 0.76 max 1 median 0.88 over 2 rounds", st)
	}
	if u := r.timeUnit("GitHubAll/graft", "GitHubAll/gin"); u != "cpu-ns/op" {
		t.Errorf("time unit %q", u)
	}
}

// TestWritePage checks the targets verdicts and that every chart is well-
// formed XML.
func TestWritePage(t *testing.T) {
	r := &results{Samples: append(parseBench(round1, 1), parseBench(round2, 2)...)}
	r.Meta.Rounds = 2
	r.Meta.Took = "12m0s"
	r.Meta.Steps = []stepTime{{"micro", "4m0s"}, {"ws", "3m0s"}}
	dir := t.TempDir()
	out := filepath.Join(dir, "benchmarks.md")
	if err := writePage(r, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, "(took 12m0s: micro 4m0s, ws 3m0s)") {
		t.Errorf("step times missing from the header:\n%s", page[:min(len(page), 400)])
	}
	// Paired graft/gin median 0.88 ≤ 0.9 with 0 allocs in GitHubAll: met.
	if !strings.Contains(page, "| Routing, all GitHub routes: graft/gin time (paired batches), 0 allocs | **0.880** [0.850 … 0.910], 0 allocs | ≤ 0.90 | met |") {
		t.Errorf("routing target row missing or wrong:\n%s", page)
	}
	if !strings.Contains(page, "| all/gin | 15 500 | 17 614 | 0.850 | **0.880** | 0.910 |") {
		t.Errorf("paired routing table row missing or wrong:\n%s", page)
	}
	if !strings.Contains(page, "| JSON response: graft/Fiber time | not measured |") {
		t.Errorf("an unmeasured target must say so")
	}
	if !strings.Contains(page, "![Routing: all 203 GitHub API routes](bench/github-all.svg)") {
		t.Errorf("chart not embedded")
	}
	charts, _ := filepath.Glob(filepath.Join(dir, "bench", "*.svg"))
	if len(charts) == 0 {
		t.Fatal("no chart written")
	}
	for _, c := range charts {
		f, err := os.Open(c)
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(f)
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: %v", filepath.Base(c), err)
				}
				break
			}
		}
		f.Close()
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:1/
  Latency Distribution
     50%  1.00ms
     99%  850.00us
  135801 requests in 5.00s, 16.45MB read
Requests/sec:  27160.12
`
	m, err := parseWrk(out)
	if err != nil || m["req/s"] != 27160.12 || m["p99-ms"] != 0.85 || m["requests"] != 135801 {
		t.Errorf("%v %v", m, err)
	}
	if _, err := parseWrk(out + "  Non-2xx or 3xx responses: 12\n"); err == nil {
		t.Error("error answers must fail the run")
	}
}

// A hand-written bench/chat-load.md beside the page goes into it as it is.
func TestWritePageIncludesChatLoad(t *testing.T) {
	r := &results{Samples: parseBench(round1, 1)}
	r.Meta.Rounds = 1
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bench"), 0o755); err != nil {
		t.Fatal(err)
	}
	section := "## Chat load test\n\nhand-written figures"
	if err := os.WriteFile(filepath.Join(dir, "bench", "chat-load.md"), []byte(section+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "benchmarks.md")
	if err := writePage(r, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), section+"\n\n") {
		t.Errorf("chat-load.md not included:\n%s", b)
	}
}

func TestParseH2load(t *testing.T) {
	out := "finished in 2.50s, 24000.50 req/s, 3.1MB/s\nrequests: 60000 total, 60000 started, 60000 done, 60000 succeeded, 0 failed, 0 errored, 0 timeout\n"
	m, err := parseH2load(out)
	if err != nil || m["req/s"] != 24000.5 || m["requests"] != 60000 {
		t.Errorf("%v %v", m, err)
	}
	if _, err := parseH2load(strings.Replace(out, "60000 succeeded, 0 failed", "59990 succeeded, 10 failed", 1)); err == nil {
		t.Error("failed requests must fail the run")
	}
}

// TestABBA checks the order of a round: rotated by the round, then
// reversed, each server twice.
func TestABBA(t *testing.T) {
	got := strings.Join(abba([]string{"a", "b", "c"}, 1), " ")
	if got != "b c a a c b" {
		t.Errorf("abba round 1 = %q, want \"b c a a c b\"", got)
	}
	if got := strings.Join(abba([]string{"a", "b"}, 2), " "); got != "a b b a" {
		t.Errorf("abba round 2 = %q, want \"a b b a\"", got)
	}
}

// A round that measured each side twice gives the ratio of the means.
func TestRatioOfMeansWithinARound(t *testing.T) {
	r := &results{Samples: []sample{
		{Name: "E2E/plaintext/graft", Round: 1, Metrics: map[string]float64{"req/s": 90}},
		{Name: "E2E/plaintext/nethttp", Round: 1, Metrics: map[string]float64{"req/s": 100}},
		{Name: "E2E/plaintext/nethttp", Round: 1, Metrics: map[string]float64{"req/s": 100}},
		{Name: "E2E/plaintext/graft", Round: 1, Metrics: map[string]float64{"req/s": 110}},
		{Name: "E2E/plaintext/graft", Round: 2, Metrics: map[string]float64{"req/s": 50}},
		{Name: "E2E/plaintext/nethttp", Round: 2, Metrics: map[string]float64{"req/s": 40}},
	}}
	st := r.ratio("E2E/plaintext/graft", "E2E/plaintext/nethttp", "req/s")
	if st.N != 2 || st.Min != 1 || st.Max != 1.25 {
		t.Errorf("ratio %+v, want 1 (round 1: 100/100) and 1.25 (round 2)", st)
	}
}

// processCPU reads this process's CPU time, and it grows with work.
func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc here")
	}
	before := processCPU(os.Getpid())
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after := processCPU(os.Getpid())
	if before <= 0 || after-before < 10*time.Millisecond {
		t.Errorf("CPU time %v then %v after 50 ms of spinning (%d spins)", before, after, x)
	}
}

func TestDumpTotal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "graft.cg.1")
	// The dump appears while dumpTotal waits for it.
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.WriteFile(path, []byte("version: 1\ncmd: plaintext\nevents: Ir\nsummary: 194035000\n\nfn=main\n0 1\ntotals: 194035000\n"), 0o644)
	}()
	n, err := dumpTotal(path, 10*time.Second)
	if err != nil || n != 194035000 {
		t.Fatalf("dumpTotal = %d, %v; want 194035000", n, err)
	}
	if _, err := dumpTotal(filepath.Join(dir, "missing"), 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no instruction total") {
		t.Errorf("a dump that never comes: %v", err)
	}
}

// TestFixedLoad checks that fixedLoad sends exactly n requests over at
// most conns connections and reports an answer other than 200.
func TestFixedLoad(t *testing.T) {
	var served, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 3}}
	defer client.CloseIdleConnections()
	if err := fixedLoad(client, srv.URL+"/", 101, 3); err != nil {
		t.Fatal(err)
	}
	if served.Load() != 101 || conns.Load() > 3 {
		t.Errorf("served %d requests over %d connections; want 101 over at most 3", served.Load(), conns.Load())
	}
	if err := fixedLoad(client, srv.URL+"/missing", 5, 2); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 answers: %v", err)
	}
}

func TestStepOfInstructions(t *testing.T) {
	for name, want := range map[string]string{"E2EInstr/json/graft": "instr", "E2E/json/graft": "e2e", "E2EH2/json/graft": "e2e"} {
		if got := stepOf(name); got != want {
			t.Errorf("stepOf(%q) = %q, want %q", name, got, want)
		}
	}
}
