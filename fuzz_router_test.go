package graft

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// refRoute is one route as the naive reference matcher sees it: a method and
// the pattern's segments, each static text, a {param} or a {rest...}.
type refRoute struct {
	method, pattern string
	segs            []refSeg
}

type refSeg struct {
	kind byte // 's' static, 'p' {param}, 'w' {rest...}
	text string
	name string
}

// refMatch reports whether path matches the route's segments, and the
// wildcard values it captures, by the rules in docs/architecture.md: a
// {param} takes one non-empty segment, a {rest...} the rest of the path
// after its slash (possibly empty), static text the same segment exactly.
func (r refRoute) refMatch(path string) ([]string, bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var vals []string
	for i, s := range r.segs {
		if s.kind == 'w' {
			if i >= len(parts) {
				return nil, false // the slash before {rest...} is required
			}
			return append(vals, strings.Join(parts[i:], "/")), true
		}
		if i >= len(parts) {
			return nil, false
		}
		switch s.kind {
		case 's':
			if parts[i] != s.text {
				return nil, false
			}
		case 'p':
			if parts[i] == "" {
				return nil, false
			}
			vals = append(vals, parts[i])
		}
	}
	return vals, len(parts) == len(r.segs)
}

// refLess orders patterns by specificity: compared segment by segment,
// static beats {param} beats {rest...}. Among patterns that match one path,
// the least in this order is the most specific.
func refLess(a, b refRoute) int {
	rank := map[byte]int{'s': 0, 'p': 1, 'w': 2}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if d := rank[a.segs[i].kind] - rank[b.segs[i].kind]; d != 0 {
			return d
		}
	}
	return len(a.segs) - len(b.segs)
}

// refServe is the naive reference: a linear scan for the patterns matching
// path, most specific first; the first that has the method (HEAD falling
// back to GET) serves. It returns the answer the echo handler would give,
// or "405 <allow set>" / "404".
func refServe(routes []refRoute, method, path string) string {
	type hit struct {
		r    refRoute
		vals []string
	}
	var hits []hit
	for _, r := range routes {
		if v, ok := r.refMatch(path); ok {
			hits = append(hits, hit{r, v})
		}
	}
	if len(hits) == 0 {
		return "404"
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return refLess(a.r, b.r) })
	pick := func(m string) string {
		for _, h := range hits {
			if h.r.method == m {
				return refEcho(h.r, h.vals)
			}
		}
		return ""
	}
	if s := pick(method); s != "" {
		return s
	}
	if method == http.MethodHead {
		if s := pick(http.MethodGet); s != "" {
			return s
		}
	}
	allow := map[string]bool{}
	for _, h := range hits {
		allow[h.r.method] = true
		if h.r.method == http.MethodGet {
			allow[http.MethodHead] = true
		}
	}
	return "405 " + setString(allow)
}

func refEcho(r refRoute, vals []string) string {
	var b strings.Builder
	b.WriteString(r.method + " " + r.pattern)
	i := 0
	for _, s := range r.segs {
		if s.kind != 's' {
			b.WriteString(" " + s.name + "=" + vals[i])
			i++
		}
	}
	return b.String()
}

func setString(m map[string]bool) string {
	var ks []string
	for k := range m {
		if k != "" {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

var (
	fuzzStatics = []string{"a", "b", "ab", "ba", "" /* trailing slash */}
	fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}
)

// fuzzRoutes decodes a route set from data: each route takes two bytes,
// the first choosing method and length, the second (two bits a segment)
// the segment kinds.
func fuzzRoutes(data []byte) (routes []refRoute, rest []byte) {
	n := 0
	if len(data) > 0 {
		n = int(data[0]%12) + 1
		data = data[1:]
	}
	seen := map[string]bool{}
	for ; n > 0 && len(data) >= 2; n-- {
		a, b := data[0], data[1]
		data = data[2:]
		r := refRoute{method: fuzzMethods[int(a)%len(fuzzMethods)]}
		nseg := int(a/3)%3 + 1
		var shape strings.Builder
		for i := range nseg {
			k := (b >> (2 * i)) & 3
			sel := int(b>>6) + i
			var s refSeg
			switch {
			case k == 3 && i == nseg-1:
				s = refSeg{kind: 'w', name: fmt.Sprintf("r%d", i)}
				s.text = "{" + s.name + "...}"
			case k >= 2:
				s = refSeg{kind: 'p', name: fmt.Sprintf("p%d", i)}
				s.text = "{" + s.name + "}"
			default:
				s = refSeg{kind: 's', text: fuzzStatics[(sel+int(k))%len(fuzzStatics)]}
				if s.text == "" && i != nseg-1 {
					s.text = "a"
				}
			}
			r.segs = append(r.segs, s)
			shape.WriteString("/" + map[byte]string{'s': s.text, 'p': "{}", 'w': "{...}"}[s.kind])
		}
		var p strings.Builder
		for _, s := range r.segs {
			p.WriteString("/" + s.text)
		}
		r.pattern = p.String()
		key := r.method + " " + shape.String()
		if seen[key] {
			continue // same method and shape: a registration conflict
		}
		seen[key] = true
		routes = append(routes, r)
	}
	return routes, data
}

// fuzzPath decodes one request path from a byte: up to four segments drawn
// from the static texts plus one the routes never use.
func fuzzPath(b byte, c byte) string {
	words := []string{"a", "b", "ab", "ba", "", "x"}
	n := int(b % 5)
	var p strings.Builder
	for i := range n {
		p.WriteString("/" + words[(int(c)+i*int(b>>3))%len(words)])
	}
	if n == 0 {
		return "/"
	}
	return p.String()
}

// FuzzRouter checks graft's router against refServe, a linear scan written
// from the documented precedence rules, on random route sets and paths.
func FuzzRouter(f *testing.F) {
	f.Add([]byte{3, 0, 0, 3, 2, 6, 3, 0, 7})
	f.Add([]byte{5, 6, 0x0c, 6, 0x3c, 3, 0x02, 1, 1, 2, 0x0f, 0x21, 0x42, 0x93, 0x14})
	f.Fuzz(func(t *testing.T, data []byte) {
		routes, rest := fuzzRoutes(data)
		app, _ := newApp(t, Config{})
		for _, r := range routes {
			echo := func(c *Ctx) error {
				var b strings.Builder
				b.WriteString(c.route.method + " " + c.RoutePattern())
				for _, n := range c.route.paramNames {
					b.WriteString(" " + n + "=" + c.Param(n))
				}
				c.SetHeader("X-Route", b.String())
				return c.NoContent()
			}
			app.Handle(r.method, r.pattern, echo)
		}
		for len(rest) >= 2 {
			method := append(fuzzMethods, http.MethodHead)[int(rest[0]>>5)%4]
			path := fuzzPath(rest[0], rest[1])
			rest = rest[2:]
			w := httptest.NewRecorder()
			app.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			var got string
			switch w.Code {
			case http.StatusNotFound:
				got = "404"
			case http.StatusMethodNotAllowed:
				allow := map[string]bool{}
				for _, m := range strings.Split(w.Header().Get("Allow"), ",") {
					allow[strings.TrimSpace(m)] = true
				}
				delete(allow, http.MethodOptions)
				got = "405 " + setString(allow)
			default:
				got = w.Header().Get("X-Route")
			}
			want := refServe(routes, method, path)
			if got != want {
				t.Fatalf("%s %s with routes %v:\n got  %q (status %d)\n want %q", method, path, refPatterns(routes), got, w.Code, want)
			}
		}
	})
}

func refPatterns(rs []refRoute) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.method+" "+r.pattern)
	}
	return out
}
