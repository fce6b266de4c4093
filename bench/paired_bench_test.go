package bench

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkRoutingPaired times graft and gin on the same routing work
// (GitHubAll's 203 requests, GitHubParam3's one) in alternating batches of
// about 0.1 ms each, graft first in one iteration and gin first in the
// next, and reports the ratio of their median batch times ("graft/peer")
// with each side's time per op ("graft-ns/op", "peer-ns/op"). On a shared
// machine the other tenants' load moves by more within the seconds
// between two sub-benchmarks of BenchmarkGitHubAll than the difference
// between two routers; batches this short see the same load on both
// sides, and the median leaves out the batches a burst of it hit. ns/op is
// the time of one iteration: a batch of each.
func BenchmarkRoutingPaired(b *testing.B) {
	for _, c := range []struct {
		name   string
		routes []Route
		batch  int // ops per batch
	}{
		{"all", GitHubAPI, 8},
		{"param3", []Route{GitHubParam3}, 1024},
	} {
		reqs := requests(c.routes)
		b.Run(c.name+"/gin", func(b *testing.B) {
			graft := loadGraft(b, GitHubAPI, &probe{})
			gin := routerNamed(b, "gin").load(b, GitHubAPI, &probe{})
			benchPaired(b, c.batch, reqs, graft, gin)
		})
	}
}

// routerNamed returns the router of routers called name.
func routerNamed(tb testing.TB, name string) router {
	for _, rt := range routers {
		if rt.name == name {
			return rt
		}
	}
	tb.Fatalf("no router %q", name)
	return router{}
}

// benchPaired serves reqs batch times per batch through a and then o (o
// first every other iteration) and reports the ratio of the median batch
// times, a/o.
func benchPaired(b *testing.B, batch int, reqs []*http.Request, a, o http.Handler) {
	w := newDiscardWriter()
	run := func(h http.Handler) time.Duration {
		t0 := time.Now()
		for range batch {
			for _, r := range reqs {
				h.ServeHTTP(w, r)
			}
		}
		return time.Since(t0)
	}
	var ta, to []time.Duration
	first := true
	for b.Loop() {
		if first {
			ta = append(ta, run(a))
			to = append(to, run(o))
		} else {
			to = append(to, run(o))
			ta = append(ta, run(a))
		}
		first = !first
	}
	ma, mo := medianDuration(ta), medianDuration(to)
	if mo > 0 {
		b.ReportMetric(float64(ma)/float64(mo), "graft/peer")
	}
	b.ReportMetric(float64(ma)/float64(batch), "graft-ns/op")
	b.ReportMetric(float64(mo)/float64(batch), "peer-ns/op")
}

// medianDuration is the median of ds (0 for none); it sorts ds.
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}
