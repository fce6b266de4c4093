package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/valyala/fasthttp"
)

// benchRequests serves every request once per op through a discarding
// writer. Besides ns/op (wall time) it reports cpu-ns/op, the process CPU
// time per op: on a shared machine whose other tenants take the CPU away,
// wall time grows with their load but CPU time much less, which makes
// ratios between routers measured minutes apart comparable.
func benchRequests(b *testing.B, h http.Handler, reqs []*http.Request) {
	w := newDiscardWriter()
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	n := 0
	for b.Loop() {
		for _, r := range reqs {
			h.ServeHTTP(w, r)
		}
		n++
	}
	if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
}

// BenchmarkGitHubAll routes all 203 GitHub API requests per op.
func BenchmarkGitHubAll(b *testing.B) {
	reqs := requests(GitHubAPI)
	for _, rt := range routers {
		b.Run(rt.name, func(b *testing.B) {
			benchRequests(b, rt.load(b, GitHubAPI, &probe{}), reqs)
		})
	}
	b.Run("fiber", func(b *testing.B) {
		benchFiber(b, loadFiber(b, GitHubAPI, &probe{}), fiberCtxs(GitHubAPI))
	})
}

// BenchmarkGitHubParam3 routes one request of a 3-parameter route per op,
// with the whole GitHub API set loaded; the handler reads the three
// parameters and parses the number, in every router.
func BenchmarkGitHubParam3(b *testing.B) {
	reqs := requests([]Route{GitHubParam3})
	for _, rt := range routers {
		b.Run(rt.name, func(b *testing.B) {
			benchRequests(b, rt.load(b, GitHubAPI, &probe{}), reqs)
		})
	}
	b.Run("fiber", func(b *testing.B) {
		benchFiber(b, loadFiber(b, GitHubAPI, &probe{}), fiberCtxs([]Route{GitHubParam3}))
	})
}

// BenchmarkPlaintext answers GET / with "Hello, World!" as text/plain.
func BenchmarkPlaintext(b *testing.B) {
	benchHello(b, "/")
}

// BenchmarkJSON answers GET /json with {"message":"Hello, World!"}.
func BenchmarkJSON(b *testing.B) {
	benchHello(b, "/json")
}

func benchHello(b *testing.B, path string) {
	reqs := []*http.Request{httptest.NewRequest(http.MethodGet, path, nil)}
	for _, a := range apps {
		b.Run(a.name, func(b *testing.B) {
			benchRequests(b, a.load(b), reqs)
		})
	}
	b.Run("fiber", func(b *testing.B) {
		benchFiber(b, loadFiberHello(b), []*fasthttp.RequestCtx{fiberCtx(http.MethodGet, path)})
	})
}
