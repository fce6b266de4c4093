// Command benchrun runs graft's benchmarks next to its peers and writes
// docs/benchmarks.md: tables with min/median/max across interleaved rounds,
// ratios with their spread, the targets of the benchmarks issue marked met
// or not, machine facts, and SVG charts (docs/bench/*.svg) embedded in the
// page. bench/run is its entry point:
//
//	bench/run            # every benchmark, 5 rounds (under 15 minutes here)
//	bench/run --quick    # 2 short rounds, no idle-memory run (under 2 minutes)
//
// Steps, each in its own process so one cannot disturb the next:
//
//  1. micro: the bench module's test binary (routing, plaintext, JSON,
//     typed binding, the 422, SSE) and the core package's own-cost
//     benchmarks, in rounds; every sub-benchmark of a group runs in each
//     round, so a ratio is taken within one round and its spread shows the
//     noise;
//  2. ws: WebSocket echo and broadcast with 50 and 1,000 clients, each
//     benchmark and server in its own run, twice per round in ABBA order
//     (rotated by round, then reversed);
//  3. mem: process RSS per idle WebSocket connection (cmd/wsidle), server
//     and clients in separate processes, at the most connections the
//     descriptor limit allows;
//  4. e2e: wrk over loopback (and h2load for HTTP/2 when installed), the
//     servers pinned to CPU 0 and the load generator to CPU 1 with
//     taskset, in ABBA order, with each server's CPU time per request;
//  5. instr: the instructions each end-to-end server process executes per
//     request, counted by valgrind's callgrind (repeatable to about 1 %,
//     where wrk's req/s moves by ±10 % between two runs of one server).
//
// Steps whose tool is missing are reported as skipped in the page, with
// the command that installs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "2 short rounds, no idle-memory step (under 2 minutes)")
	flag.IntVar(&o.rounds, "rounds", 0, "rounds of each step (default 5, or 2 with -quick)")
	flag.StringVar(&o.out, "out", "", "page to write (default ../docs/benchmarks.md next to the bench module)")
	flag.StringVar(&o.only, "only", "micro,ws,mem,e2e,instr", "comma-separated steps to run")
	flag.StringVar(&o.from, "from", "", "rebuild the page from the raw results of an earlier run (a directory) instead of running")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

type options struct {
	quick  bool
	rounds int
	out    string
	only   string
	from   string
}

func run(o options) error {
	if o.rounds == 0 {
		o.rounds = 5
		if o.quick {
			o.rounds = 2
		}
	}
	benchDir, err := moduleDir()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(benchDir, "..", "docs", "benchmarks.md")
	}
	var res *results
	if o.from != "" {
		res, err = loadResults(o.from)
		if err != nil {
			return err
		}
	} else {
		raw := filepath.Join(benchDir, ".results")
		prev, _ := loadResults(raw) // kept for the steps this run leaves out
		if err := os.RemoveAll(raw); err != nil {
			return err
		}
		if err := os.MkdirAll(raw, 0o755); err != nil {
			return err
		}
		start := time.Now()
		r := &runner{opts: o, benchDir: benchDir, raw: raw, tmp: filepath.Join(raw, "bin")}
		res, err = r.all()
		if err != nil {
			return err
		}
		res.Meta.Took = time.Since(start).Round(time.Second).String()
		res.keep(prev, o.only)
		if err := res.save(raw); err != nil {
			return err
		}
		fmt.Printf("benchrun: raw results in %s (rebuild the page with -from %s)\n", raw, raw)
	}
	return writePage(res, o.out)
}

// moduleDir finds the bench module's directory: the working directory or
// one of its parents holding bench's go.mod.
func moduleDir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && len(b) > 0 &&
			containsLine(string(b), "module github.com/graftgo/graft/bench") {
			return d, nil
		}
		if p := filepath.Join(d, "bench"); isBenchModule(p) {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("run from graft's bench module (bench/), or use bench/run")
		}
		d = parent
	}
}

func isBenchModule(d string) bool {
	b, err := os.ReadFile(filepath.Join(d, "go.mod"))
	return err == nil && containsLine(string(b), "module github.com/graftgo/graft/bench")
}
