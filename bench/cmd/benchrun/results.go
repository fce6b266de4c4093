package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// results is everything one run measured.
type results struct {
	Meta    meta     `json:"meta"`
	Samples []sample `json:"samples"`
	Skipped []string `json:"skipped,omitempty"` // steps not run, with why and how to fix
}

// meta holds the machine facts printed at the top of the page.
type meta struct {
	Date       string            `json:"date"`
	Go         string            `json:"go"`
	OS         string            `json:"os"`
	CPU        string            `json:"cpu"`
	CPUs       int               `json:"cpus"`
	Commit     string            `json:"commit"`
	LoadBefore string            `json:"load_before"`
	LoadAfter  string            `json:"load_after"`
	Rounds     int               `json:"rounds"`
	Quick      bool              `json:"quick"`
	Took       string            `json:"took"`
	Steps      []stepTime        `json:"steps,omitempty"`
	Versions   map[string]string `json:"versions"`
	NoFile     string            `json:"nofile,omitempty"`
}

// stepTime is how long one step of a run took: "build" (compiling the
// test binaries and commands) or a step of -only.
type stepTime struct {
	Step string `json:"step"`
	Took string `json:"took"`
}

// sample is one measurement of one benchmark in one round: a Go benchmark
// line, a wrk run or an idle-memory run.
type sample struct {
	Name    string             `json:"name"` // e.g. "GitHubAll/graft"
	Round   int                `json:"round"`
	Metrics map[string]float64 `json:"metrics"`
}

func (r *results) save(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644)
}

func loadResults(dir string) (*results, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var r results
	return &r, json.Unmarshal(b, &r)
}

// parseBench reads `go test -bench` output: each line
//
//	BenchmarkGitHubAll/graft-2   1234   5678 ns/op   90 cpu-ns/op   0 B/op   0 allocs/op
//
// becomes a sample named "GitHubAll/graft" (the GOMAXPROCS suffix dropped).
func parseBench(out string, round int) []sample {
	var ss []sample
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		s := sample{Name: name, Round: round, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			s.Metrics[f[i+1]] = v
		}
		ss = append(ss, s)
	}
	return ss
}

// stat is a metric's spread across rounds.
type stat struct {
	Min, Median, Max float64
	N                int
}

func statOf(vs []float64) stat {
	if len(vs) == 0 {
		return stat{}
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Min: s[0], Median: m, Max: s[len(s)-1], N: len(s)}
}

// values returns metric unit of benchmark name in every round.
func (r *results) values(name, unit string) []float64 {
	var vs []float64
	for _, s := range r.Samples {
		if s.Name == name {
			if v, ok := s.Metrics[unit]; ok {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// ratio returns the spread of a/b over the rounds where both were
// measured: each round's ratio is taken within that round, so a load spike
// that slows one round slows both sides. A round that measured a side
// more than once (the ABBA order of the ws and e2e steps) contributes the
// ratio of the sides' means.
func (r *results) ratio(a, b, unit string) stat {
	type acc struct {
		sum float64
		n   int
	}
	av, bv := map[int]acc{}, map[int]acc{}
	for _, s := range r.Samples {
		v, ok := s.Metrics[unit]
		if !ok {
			continue
		}
		var m map[int]acc
		switch s.Name {
		case a:
			m = av
		case b:
			m = bv
		default:
			continue
		}
		x := m[s.Round]
		x.sum += v
		x.n++
		m[s.Round] = x
	}
	var rs []float64
	for round, x := range av {
		if y, ok := bv[round]; ok && y.sum != 0 {
			rs = append(rs, (x.sum/float64(x.n))/(y.sum/float64(y.n)))
		}
	}
	return statOf(rs)
}

// has reports whether benchmark name was measured.
func (r *results) has(name string) bool {
	for _, s := range r.Samples {
		if s.Name == name {
			return true
		}
	}
	return false
}

func containsLine(s, line string) bool {
	for l := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// stepOf names the step that measures a sample.
func stepOf(name string) string {
	switch {
	case strings.HasPrefix(name, "WSEcho/"), strings.HasPrefix(name, "WSBroadcast/"):
		return "ws"
	case strings.HasPrefix(name, "WSIdleRSS/"):
		return "mem"
	case strings.HasPrefix(name, "E2EInstr/"):
		return "instr"
	case strings.HasPrefix(name, "E2E"):
		return "e2e"
	}
	return "micro"
}

// keep adds the samples of an earlier run for the steps this run did not
// run (-only), so that rerunning one step keeps the rest of the page.
func (r *results) keep(prev *results, only string) {
	if prev == nil {
		return
	}
	ran := map[string]bool{}
	for s := range strings.SplitSeq(only, ",") {
		ran[strings.TrimSpace(s)] = true
	}
	kept := 0
	for _, s := range prev.Samples {
		if !ran[stepOf(s.Name)] {
			r.Samples = append(r.Samples, s)
			kept++
		}
	}
	if kept > 0 {
		r.Skipped = append(r.Skipped, fmt.Sprintf("steps other than %s: figures kept from the run of %s", only, prev.Meta.Date))
	}
}
