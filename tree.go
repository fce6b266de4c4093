package graft

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unsafe"
)

// methodIndex maps an HTTP method to its slot in a leaf's handler table.
// Unknown methods get slot -1 and can only be served by any-method routes.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "CONNECT":
		return 7
	case "TRACE":
		return 8
	}
	return -1
}

// methodNames is the inverse of methodIndex, in the order used for Allow.
var methodNames = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

const numMethods = len(methodNames)

// leaf holds the routes that end at one tree node, one per method.
type leaf struct {
	byMethod [numMethods]*route
	any      *route   // any-method route, used when byMethod has no entry
	pattern  string   // the shape this leaf was registered with, for messages
	allow    string   // value of the Allow header for 405 answers
	allowHdr []string // allow as a header value, built once so a 405 does not allocate it
	mask     uint16   // bit i: methodNames[i] is served (HEAD when GET is)
}

// anyMethod is the method index that makes every leaf acceptable.
const anyMethod = -2

// lookup returns the route serving method m, or nil.
func (l *leaf) lookup(m string) *route { return l.lookupIndex(methodIndex(m)) }

// lookupIndex returns the route serving the method of index i (see
// methodIndex), or nil.
func (l *leaf) lookupIndex(i int) *route {
	if i >= 0 {
		if r := l.byMethod[i]; r != nil {
			return r
		}
		if i == 1 { // HEAD is served by GET routes
			if r := l.byMethod[0]; r != nil {
				return r
			}
		}
	}
	return l.any
}

// computeAllow fills the Allow header value from the registered methods.
func (l *leaf) computeAllow() {
	l.mask = 0
	for i, r := range l.byMethod {
		if r != nil || (i == 1 && l.byMethod[0] != nil) {
			l.mask |= 1 << i
		}
	}
	l.allow = allowString(l.mask)
	l.allowHdr = []string{l.allow}
}

// allowString renders a method mask as an Allow header value.
func allowString(mask uint16) string {
	var b strings.Builder
	for i, m := range methodNames {
		if mask&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m)
		}
	}
	return b.String()
}

// node is one node of the radix tree. Static children are indexed by the
// first byte of their prefix; a node may also have one single-segment
// parameter child and one catch-all child. Parameter names are not stored in
// the tree: they belong to the route, so /a/{id} and /a/{name}/b coexist.
type node struct {
	prefix   string
	indices  []byte
	children []*node
	param    *node
	wild     *node
	leaf     *leaf
}

// segment is one parsed piece of a pattern.
type segment struct {
	static string // for static pieces
	kind   byte   // 's' static, 'p' param, 'w' catch-all
	name   string // param name
}

// parsePattern splits a pattern into static and wildcard segments and
// validates the wildcard syntax of Go 1.22's ServeMux.
func parsePattern(pattern string) ([]segment, []string, error) {
	if pattern == "" || pattern[0] != '/' {
		return nil, nil, fmt.Errorf("pattern %q must begin with '/'", pattern)
	}
	if hasDotSegment(pattern) {
		return nil, nil, fmt.Errorf("pattern %q has a '.' or '..' segment, which no request reaches (such paths are redirected to their clean form)", pattern)
	}
	var segs []segment
	var names []string
	seen := map[string]bool{}
	rest := pattern
	static := strings.Builder{}
	for len(rest) > 0 {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return nil, nil, fmt.Errorf("pattern %q has an unmatched '}'", pattern)
			}
			static.WriteString(rest)
			break
		}
		if strings.IndexByte(rest[:i], '}') >= 0 {
			return nil, nil, fmt.Errorf("pattern %q has an unmatched '}'", pattern)
		}
		static.WriteString(rest[:i])
		if s := static.String(); len(s) == 0 || s[len(s)-1] != '/' {
			return nil, nil, fmt.Errorf("pattern %q: a wildcard must be a whole path segment (put it right after a '/')", pattern)
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, nil, fmt.Errorf("pattern %q has an unclosed '{'", pattern)
		}
		name := rest[i+1 : i+j]
		rest = rest[i+j+1:]
		kind := byte('p')
		if n, ok := strings.CutSuffix(name, "..."); ok {
			name, kind = n, 'w'
			if rest != "" {
				return nil, nil, fmt.Errorf("pattern %q: the catch-all {%s...} must be the last segment", pattern, name)
			}
		} else if rest != "" && rest[0] != '/' {
			return nil, nil, fmt.Errorf("pattern %q: a wildcard must be a whole path segment (follow it with '/')", pattern)
		}
		if !validName(name) {
			return nil, nil, fmt.Errorf("pattern %q: wildcard name %q is not a Go identifier", pattern, name)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("pattern %q: wildcard name %q is used twice", pattern, name)
		}
		seen[name] = true
		segs = append(segs, segment{kind: 's', static: static.String()})
		static.Reset()
		segs = append(segs, segment{kind: kind, name: name})
		names = append(names, name)
	}
	if static.Len() > 0 {
		segs = append(segs, segment{kind: 's', static: static.String()})
	}
	return segs, names, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// shape renders a pattern with anonymous wildcards, the form under which two
// patterns conflict.
func shape(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		switch s.kind {
		case 's':
			b.WriteString(s.static)
		case 'p':
			b.WriteString("{}")
		case 'w':
			b.WriteString("{...}")
		}
	}
	return b.String()
}

// insert walks or grows the tree along segs and returns the leaf at its end.
func (n *node) insert(segs []segment, pattern string) *leaf {
	cur := n
	for _, s := range segs {
		switch s.kind {
		case 's':
			cur = cur.insertStatic(s.static)
		case 'p':
			if cur.param == nil {
				cur.param = &node{}
			}
			cur = cur.param
		case 'w':
			if cur.wild == nil {
				cur.wild = &node{}
			}
			cur = cur.wild
		}
	}
	if cur.leaf == nil {
		cur.leaf = &leaf{pattern: pattern}
	}
	return cur.leaf
}

// insertStatic returns the node reached after consuming s from n, splitting
// nodes where s diverges from an existing prefix.
func (n *node) insertStatic(s string) *node {
	for s != "" {
		var child *node
		idx := -1
		for i, c := range n.indices {
			if c == s[0] {
				child, idx = n.children[i], i
				break
			}
		}
		if child == nil {
			c := &node{prefix: s}
			n.indices = append(n.indices, s[0])
			n.children = append(n.children, c)
			return c
		}
		common := 0
		for common < len(s) && common < len(child.prefix) && s[common] == child.prefix[common] {
			common++
		}
		if common < len(child.prefix) {
			mid := &node{prefix: child.prefix[:common], indices: []byte{child.prefix[common]}, children: []*node{child}}
			child.prefix = child.prefix[common:]
			n.children[idx] = mid
			child = mid
		}
		n = child
		s = s[common:]
	}
	return n
}

// search is the state of one lookup: where wildcard values go, the method
// asked for, and the leaves whose pattern matched the path but that have no
// route for the method (for the 405 answer and its Allow header).
type search struct {
	ps    *params
	mi    int    // methodIndex of the request method, or anyMethod
	miss  *leaf  // first leaf that matched the path but not the method
	mask  uint16 // methods served by every such leaf
	multi bool   // more than one leaf matched the path but not the method
}

// accept reports whether l serves the method of s, recording it as a miss
// when it does not, so that the search goes on (backtracks) to patterns
// of lower priority that may serve the method, as Go's ServeMux does.
func (s *search) accept(l *leaf) bool {
	if s.mi == anyMethod || l.any != nil || (s.mi >= 0 && l.mask&(1<<s.mi) != 0) {
		return true
	}
	if s.miss == nil {
		s.miss = l
	} else if s.miss != l {
		s.multi = true
	}
	s.mask |= l.mask
	return false
}

// allowHeader returns the Allow header value for a 405 answer after a
// search that found no leaf.
func (s *search) allowHeader() []string {
	if s.multi {
		return []string{allowString(s.mask)}
	}
	return s.miss.allowHdr
}

// match finds the leaf for path below n, whatever the method, and records
// wildcard values into ps.
func (n *node) match(path string, ps *params) *leaf {
	s := search{ps: ps, mi: anyMethod}
	return n.find(path, &s)
}

// find finds the leaf for path below n (whose own prefix is consumed) that
// serves the method of s, and records wildcard values into s.ps. Static
// children win over parameters, which win over catch-alls; a branch that
// fails (no leaf, or a leaf without the method) backtracks.
func (n *node) find(path string, s *search) *leaf {
	ps := s.ps
	if path == "" {
		if n.leaf != nil && s.accept(n.leaf) {
			return n.leaf
		}
		if n.wild != nil && n.wild.leaf != nil && s.accept(n.wild.leaf) {
			ps.push("")
			return n.wild.leaf
		}
		return nil
	}
	c0 := path[0]
	for i, b := range n.indices {
		if b == c0 {
			child := n.children[i]
			if len(path) >= len(child.prefix) && path[:len(child.prefix)] == child.prefix {
				if l := child.find(path[len(child.prefix):], s); l != nil {
					return l
				}
			}
			break
		}
	}
	if n.param != nil {
		end := strings.IndexByte(path, '/')
		if end < 0 {
			end = len(path)
		}
		if end > 0 {
			mark := ps.n
			ps.push(path[:end])
			if l := n.param.find(path[end:], s); l != nil {
				return l
			}
			ps.n = mark
		}
	}
	if n.wild != nil && n.wild.leaf != nil && s.accept(n.wild.leaf) {
		ps.push(path)
		return n.wild.leaf
	}
	return nil
}

// lookup finds the leaf for path below n (whose own prefix is consumed) in
// a per-method tree, where every leaf serves the method: static children
// win over parameters, which win over catch-alls, and a failed branch
// backtracks. The walk is a loop; it recurses only at nodes where a branch
// that fails leaves an alternative to try (a static child next to a
// parameter or catch-all, a parameter next to a catch-all), restoring the
// recorded wildcard values when it backtracks.
func (n *fnode) lookup(path string, ps *params) *leaf {
walk:
	for {
		if path == "" {
			if n.leaf != nil {
				return n.leaf
			}
			if n.wild != nil && n.wild.leaf != nil {
				ps.push("")
				return n.wild.leaf
			}
			return nil
		}
		c0 := path[0]
		for i := 0; i < len(n.indices); i++ {
			b := n.indices[i]
			if b != c0 {
				continue
			}
			child := &n.kids[i]
			pl := len(child.prefix)
			// The first byte matched in indices; one- and two-byte
			// prefixes (the "/" after every parameter) need only the last.
			if len(path) >= pl && (pl <= 2 && path[pl-1] == child.prefix[pl-1] ||
				pl > 2 && pl <= 16 && wordsMatch(unsafe.Slice(unsafe.StringData(path), pl), unsafe.Slice(unsafe.StringData(child.prefix), pl), pl) ||
				pl > 16 && path[:pl] == child.prefix) {
				if n.param == nil && n.wild == nil {
					n, path = child, path[pl:]
					continue walk
				}
				mark := ps.n
				if l := child.lookup(path[pl:], ps); l != nil {
					return l
				}
				ps.n = mark
			}
			break
		}
		if n.param != nil {
			// Segments are short: a plain loop beats the call to IndexByte.
			end := 0
			for end < len(path) && path[end] != '/' {
				end++
			}
			if end > 0 {
				if path[0] == '.' {
					ps.dot = true
				}
				if n.wild == nil || n.wild.leaf == nil {
					ps.push(path[:end])
					n, path = n.param, path[end:]
					continue walk
				}
				mark := ps.n
				ps.push(path[:end])
				if l := n.param.lookup(path[end:], ps); l != nil {
					return l
				}
				ps.n = mark
			}
		}
		if n.wild != nil && n.wild.leaf != nil {
			ps.push(path)
			ps.dot = true
			return n.wild.leaf
		}
		return nil
	}
}

// wordsMatch compares a and b, both of length n in 3..16, whose first
// bytes are known to match, with two overlapping loads of each. lookup
// compares its prefixes of up to 16 bytes, nearly all of them, with it,
// inline: a call to the runtime's memequal, and the registers lookup's
// loop spills around any call, cost more than the comparison.
func wordsMatch(a, b []byte, n int) bool {
	le := binary.LittleEndian
	if n >= 8 {
		return le.Uint64(a) == le.Uint64(b) && le.Uint64(a[n-8:]) == le.Uint64(b[n-8:])
	}
	if n >= 4 {
		return le.Uint32(a) == le.Uint32(b) && le.Uint32(a[n-4:]) == le.Uint32(b[n-4:])
	}
	return le.Uint16(a[1:]) == le.Uint16(b[1:]) // n == 3: byte 0 matched
}

// methodTrees builds one tree per method from routes: the routes of that
// method, GET routes in the HEAD tree where no HEAD route has the pattern,
// and any-method routes in every tree. A request then walks only the routes
// that can serve it.
func methodTrees(routes []*route) [numMethods]*fnode {
	var trees [numMethods]*fnode
	for mi, m := range methodNames {
		t := &node{}
		add := func(rt *route, fallback bool) {
			segs, _, err := parsePattern(rt.pattern)
			if err != nil {
				return // validated at registration
			}
			l := t.insert(segs, rt.pattern)
			switch {
			case rt.method == "":
				l.any = rt
			case fallback:
				if l.byMethod[0] == nil {
					l.byMethod[0] = rt
				}
			default:
				l.byMethod[mi] = rt
			}
		}
		for _, rt := range routes {
			switch {
			case rt.method == m:
				add(rt, false)
			case mi == 1 && rt.method == http.MethodGet:
				add(rt, true)
			}
		}
		for _, rt := range routes {
			if rt.method == "" {
				add(rt, false)
			}
		}
		trees[mi] = compile(t)
	}
	return trees
}

// fnode is a node of a compiled per-method tree, the form lookup walks:
// the nodes of one tree live in one array in breadth-first order, so the
// static children of a node are consecutive (kids, indexed like indices)
// and sit next to each other in memory, and the prefixes live in one
// string. A lookup then follows no pointer array and touches few cache
// lines.
type fnode struct {
	prefix  string
	indices string // first byte of each kid's prefix
	kids    []fnode
	param   *fnode
	wild    *fnode
	leaf    *leaf
}

// compile lays the tree below root out as fnodes (see fnode). Static
// children are ordered by the number of routes below them, most first, as
// httprouter and gin do: the first bytes a lookup scans are those of the
// busiest subtrees.
func compile(root *node) *fnode {
	root.sortByWeight()
	count := 0
	root.each(func(*node) { count++ })
	// all never grows past count, so pointers into it stay valid.
	all := make([]fnode, 1, count)
	take := func(k int) []fnode {
		n := len(all)
		all = all[:n+k]
		return all[n : n+k : n+k]
	}
	type pair struct {
		src *node
		dst *fnode
	}
	order := []pair{{root, &all[0]}} // breadth-first
	for i := 0; i < len(order); i++ {
		src, dst := order[i].src, order[i].dst
		dst.indices = string(src.indices)
		dst.leaf = src.leaf
		dst.kids = take(len(src.children))
		for j, c := range src.children {
			order = append(order, pair{c, &dst.kids[j]})
		}
		if src.param != nil {
			dst.param = &take(1)[0]
			order = append(order, pair{src.param, dst.param})
		}
		if src.wild != nil {
			dst.wild = &take(1)[0]
			order = append(order, pair{src.wild, dst.wild})
		}
	}
	var b strings.Builder
	for _, p := range order {
		b.WriteString(p.src.prefix)
	}
	text := b.String()
	for _, p := range order {
		p.dst.prefix, text = text[:len(p.src.prefix)], text[len(p.src.prefix):]
	}
	return &all[0]
}

// sortByWeight orders the static children of n and of every node below it
// by the number of leaves below them, most first, and returns the number of
// leaves below n.
func (n *node) sortByWeight() int {
	total := 0
	if n.leaf != nil {
		total++
	}
	w := make([]int, len(n.children))
	for i, c := range n.children {
		w[i] = c.sortByWeight()
		total += w[i]
	}
	if n.param != nil {
		total += n.param.sortByWeight()
	}
	if n.wild != nil {
		total += n.wild.sortByWeight()
	}
	order := make([]int, len(n.children))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return w[b] - w[a] })
	kids, idx := make([]*node, len(order)), make([]byte, len(order))
	for i, o := range order {
		kids[i], idx[i] = n.children[o], n.indices[o]
	}
	n.children, n.indices = kids, idx
	return total
}

// each calls fn for n and every node below it.
func (n *node) each(fn func(*node)) {
	fn(n)
	for _, c := range n.children {
		c.each(fn)
	}
	if n.param != nil {
		n.param.each(fn)
	}
	if n.wild != nil {
		n.wild.each(fn)
	}
}

// walk calls fn for every leaf below n.
func (n *node) walk(fn func(*leaf)) {
	n.each(func(x *node) {
		if x.leaf != nil {
			fn(x.leaf)
		}
	})
}

// maxParams bounds the wildcards of one pattern so that a Ctx can keep their
// values in a fixed array.
const maxParams = 16

// params holds the wildcard values of one match, by position.
type params struct {
	vals [maxParams]string
	n    int
	dot  bool // a value starts with '.' or is a catch-all's: check dotParams
}

// unescape percent-decodes the values of a match made on the escaped form
// of a path (see slashEscapedPath), where "%2F" stayed inside a segment.
// A value that does not decode is kept as it is.
func (p *params) unescape() {
	for i, v := range p.vals[:min(p.n, maxParams)] {
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.PathUnescape(v); err == nil {
				p.vals[i] = u
			}
		}
	}
}

func (p *params) push(v string) {
	if p.n < maxParams {
		p.vals[p.n] = v
	}
	p.n++
}

// hasEscapedSlash reports whether an escaped path holds "%2F", a slash
// that belongs to a segment instead of separating two.
func hasEscapedSlash(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '%' && p[i+1] == '2' && (p[i+2] == 'F' || p[i+2] == 'f') {
			return true
		}
	}
	return false
}

// slashEscapedPath decodes an escaped path except for "%2F" and "%25",
// which stay escaped (as "%2F" and "%25"): the router then splits segments
// only at real slashes, static segments still match their decoded form,
// and Ctx.Param decodes what the wildcards captured. ok is false for a
// malformed escape.
func slashEscapedPath(p string) (string, bool) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", false
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		switch v := hi<<4 | lo; v {
		case '/':
			b.WriteString("%2F")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteByte(v)
		}
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// dotParams reports whether a matched wildcard value is or holds a "." or
// ".." segment; wild says the last value is a catch-all's (several
// segments). Checking the values a match captured, rather than scanning
// every path, keeps the check off static routes: their patterns cannot
// hold dot segments.
func dotParams(ps *params, wild bool) bool {
	n := min(ps.n, maxParams)
	for i, v := range ps.vals[:n] {
		if v == "" {
			continue
		}
		if wild && i == n-1 {
			if strings.Contains(v, ".") && hasDotSegment(v) {
				return true
			}
		} else if v[0] == '.' && (v == "." || v == "..") {
			return true
		}
	}
	return false
}

// hasDotSegment reports whether p has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// redirectClean answers a path with dot segments, as Go's ServeMux does,
// with a redirect to its clean form, so that no handler ever sees ".." in a
// wildcard (a catch-all used as a file name would otherwise reach outside
// its directory). p is the routing form of the path (see
// slashEscapedPath when raw). GET and HEAD get 301; other methods 308, which
// keeps the method and body.
func redirectClean(w http.ResponseWriter, r *http.Request, p string, raw bool) {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	segs := strings.Split(clean, "/")
	for i, s := range segs {
		if raw {
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
		}
		segs[i] = url.PathEscape(s)
	}
	loc := strings.Join(segs, "/")
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
}
