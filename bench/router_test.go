package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// fasthttp (under Fiber) starts one goroutine per process, on its first
// response, that refreshes the Date header every second and never stops.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

func TestGitHubAPIIsTheClassicSet(t *testing.T) {
	if len(GitHubAPI) != 203 {
		t.Fatalf("GitHubAPI has %d routes, the classic set has 203", len(GitHubAPI))
	}
	seen := map[Route]bool{}
	for _, r := range GitHubAPI {
		if seen[r] {
			t.Errorf("%s %s is listed twice", r.Method, r.Path)
		}
		seen[r] = true
	}
	if !seen[GitHubParam3] || len(GitHubParam3.ParamNames()) != 3 {
		t.Errorf("GitHubParam3 %s must be a 3-parameter route of the set", GitHubParam3.Path)
	}
}

// TestGitHubRoutes checks that every router sends every request of the set
// to the right route with the right parameter values, so no router wins a
// benchmark by doing less.
func TestGitHubRoutes(t *testing.T) {
	reqs := requests(GitHubAPI)
	for _, rt := range routers {
		t.Run(rt.name, func(t *testing.T) {
			p := &probe{}
			h := rt.load(t, GitHubAPI, p)
			for i, r := range GitHubAPI {
				p.route = -1
				w := newDiscardWriter()
				h.ServeHTTP(w, reqs[i])
				checkProbe(t, p, i, r, w.status)
			}
			for _, path := range []string{"/nope", "/repos/a/b/nope", "/user/repos/extra"} {
				p.route = -1
				w := newDiscardWriter()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
				if p.route != -1 || w.status != http.StatusNotFound {
					t.Errorf("GET %s: served by route %d with status %d, want 404", path, p.route, w.status)
				}
			}
		})
	}
}

// checkProbe checks that request i of the set was served by route r with
// the right parameter values, the "number" parameter parsed.
func checkProbe(t *testing.T, p *probe, i int, r Route, status int) {
	t.Helper()
	if p.route != i {
		t.Errorf("%s %s: served by route %d, want %d (status %d)", r.Method, r.RequestPath(), p.route, i, status)
		return
	}
	names := r.ParamNames()
	if p.n != len(names) {
		t.Errorf("%s %s: %d params read, want %d", r.Method, r.Path, p.n, len(names))
		return
	}
	for j, n := range names {
		if got, want := p.params[j], ParamValue(n); got != want {
			t.Errorf("%s %s: param %s = %q, want %q", r.Method, r.Path, n, got, want)
		}
	}
	if r.NumberParam() >= 0 && p.num != 1347 {
		t.Errorf("%s %s: number parsed as %d, want 1347", r.Method, r.Path, p.num)
	}
	p.num = 0
}

// TestHello checks that every framework answers the plaintext and JSON
// benchmarks with the same body and media type.
func TestHello(t *testing.T) {
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			h := a.load(t)

			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != http.StatusOK || w.Body.String() != helloText ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("GET /: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
			}

			w = httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/json", nil))
			var m helloMessage
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || w.Code != http.StatusOK ||
				m.Message != helloText || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("GET /json: %d %q %q (%v)", w.Code, w.Header().Get("Content-Type"), w.Body, err)
			}
		})
	}
}

// TestGraftRoutingAllocs pins the design promise that routing, parameter
// reads and the pooled Ctx cost no allocation.
func TestGraftRoutingAllocs(t *testing.T) {
	p := &probe{}
	h := loadGraft(t, GitHubAPI, p)
	for _, r := range []Route{{"GET", "/user/repos"}, GitHubParam3} {
		req := httptest.NewRequest(r.Method, r.RequestPath(), nil)
		w := newDiscardWriter()
		if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("graft %s %s: %v allocs per request, want 0", r.Method, r.Path, n)
		}
		if want := len(r.ParamNames()); p.n != want {
			t.Errorf("graft %s %s: %d params read, want %d", r.Method, r.Path, p.n, want)
		}
	}
}
