package graft

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// treeWords are the pieces random patterns and paths are made of: static
// segments that share prefixes (so nodes split), wildcards, and in paths
// values that no pattern spells.
var (
	patternWords = []string{"a", "ab", "abc", "b", "u", "user", "users", "usr", "{x}", "{y}", "{z}", "{rest...}", ""}
	pathWords    = []string{"a", "ab", "abc", "abd", "b", "u", "user", "users", "usr", "us", "zz", "", "x%2Fy", "."}
)

// randomRoutes makes up to n GET routes of distinct shapes from r.
func randomRoutes(r *rand.Rand, n int) []*route {
	var routes []*route
	shapes := map[string]bool{}
	for range n {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			w := patternWords[r.IntN(len(patternWords))]
			b.WriteString("/" + w)
			if strings.HasSuffix(w, "...}") {
				break
			}
		}
		p := b.String()
		if strings.Count(p, "{x}") > 1 || strings.Count(p, "{y}") > 1 || strings.Count(p, "{z}") > 1 {
			continue
		}
		segs, names, err := parsePattern(p)
		if err != nil || shapes[shape(segs)] {
			continue
		}
		shapes[shape(segs)] = true
		routes = append(routes, &route{method: "GET", pattern: p, paramNames: names, wild: segs[len(segs)-1].kind == 'w'})
	}
	return routes
}

// randomPath makes a request path from r.
func randomPath(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(5) {
		b.WriteString("/" + pathWords[r.IntN(len(pathWords))])
	}
	return b.String()
}

// checkLookup compares the compiled per-method lookup with the reference
// walk of the tree of every route (find, which keeps the tree as built):
// both must pick the same leaf and capture the same values.
func checkLookup(t *testing.T, routes []*route, paths []string) {
	t.Helper()
	root := &node{}
	for _, rt := range routes {
		segs, _, _ := parsePattern(rt.pattern)
		root.insert(segs, rt.pattern).byMethod[0] = rt
	}
	root.walk(func(l *leaf) { l.computeAllow() })
	get := methodTrees(routes)[0]
	for _, p := range paths {
		var want, got params
		wl := root.match(p, &want)
		gl := get.lookup(p, &got)
		if routeOf(wl) != routeOf(gl) {
			t.Fatalf("path %q: compiled lookup found %v, reference %v (routes %v)", p, leafPattern(gl), leafPattern(wl), patterns(routes))
		}
		if wl != nil && !slices.Equal(want.vals[:want.n], got.vals[:got.n]) {
			t.Fatalf("path %q (route %s): compiled lookup captured %q, reference %q", p, wl.pattern, got.vals[:got.n], want.vals[:want.n])
		}
	}
}

// routeOf is the GET route of a leaf (the trees have leaves of their own).
func routeOf(l *leaf) *route {
	if l == nil {
		return nil
	}
	return l.lookupIndex(0)
}

func leafPattern(l *leaf) string {
	if l == nil {
		return "no route"
	}
	return l.pattern
}

func patterns(routes []*route) []string {
	var ps []string
	for _, rt := range routes {
		ps = append(ps, rt.pattern)
	}
	return ps
}

// TestLookupMatchesReference runs the compiled lookup against the
// reference walk on random route sets.
func TestLookupMatchesReference(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		routes := randomRoutes(r, 2+r.IntN(30))
		paths := make([]string, 200)
		for i := range paths {
			paths[i] = randomPath(r)
		}
		for _, rt := range routes { // every route's own shape, with values
			paths = append(paths, strings.NewReplacer("{x}", "v1", "{y}", "v2", "{z}", "v3", "{rest...}", "r/s").Replace(rt.pattern))
		}
		checkLookup(t, routes, paths)
	}
}

// FuzzLookup is TestLookupMatchesReference driven by the fuzzer: a seed
// picks the routes and the fuzzed path is looked up in them.
func FuzzLookup(f *testing.F) {
	f.Add(uint64(1), "/a/b")
	f.Add(uint64(7), "/users/v/abc")
	f.Add(uint64(42), "/u/")
	f.Fuzz(func(t *testing.T, seed uint64, path string) {
		if path == "" || path[0] != '/' {
			return
		}
		r := rand.New(rand.NewPCG(seed, 2))
		checkLookup(t, randomRoutes(r, 2+r.IntN(30)), []string{path})
	})
}

// TestLookupPrefixLengths checks the compiled lookup's prefix comparison
// (one byte, overlapping 2-, 4- and 8-byte loads, memequal past 16 bytes)
// at every prefix length up to 40 and every byte position: a path that
// differs from a route in any one byte, or stops short of it, misses it.
func TestLookupPrefixLengths(t *testing.T) {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	for n := 1; n <= len(alpha); n++ {
		// "/s" + the prefix, next to a sibling sharing only "/s", so that
		// the compiled tree has a node whose prefix is exactly alpha[:n].
		static := "/s" + alpha[:n]
		routes := []*route{
			{method: "GET", pattern: static},
			{method: "GET", pattern: static + "/{id}", paramNames: []string{"id"}},
			{method: "GET", pattern: "/s-other"},
		}
		paths := []string{static, static + "/7", static + "x", static[:len(static)-1], "/s-other"}
		for i := 2; i < len(static); i++ {
			for _, c := range []byte{'_', static[i] ^ 0x20, static[i] + 1} {
				b := []byte(static)
				b[i] = c
				paths = append(paths, string(b), string(b)+"/7")
			}
		}
		checkLookup(t, routes, paths)
		get := methodTrees(routes)[0]
		var ps params
		if l := get.lookup(static+"/7", &ps); routeOf(l) != routes[1] || ps.vals[0] != "7" {
			t.Fatalf("prefix length %d: %s/7 found %v", n, static, leafPattern(l))
		}
		ps = params{}
		b := []byte(static)
		b[len(b)-1] ^= 1
		if l := get.lookup(string(b), &ps); l != nil {
			t.Fatalf("prefix length %d: %q found %s", n, b, l.pattern)
		}
	}
}
