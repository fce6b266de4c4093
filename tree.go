package graft

import (
	"fmt"
	"strings"
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
	any      *route // any-method route, used when byMethod has no entry
	pattern  string // the shape this leaf was registered with, for messages
	allow    string // value of the Allow header for 405 answers
}

// lookup returns the route serving method m, or nil.
func (l *leaf) lookup(m string) *route {
	i := methodIndex(m)
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
	var b strings.Builder
	add := func(m string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m)
	}
	for i, r := range l.byMethod {
		if r != nil || (i == 1 && l.byMethod[0] != nil) {
			add(methodNames[i])
		}
	}
	l.allow = b.String()
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

// match finds the leaf for path below n (whose own prefix is consumed) and
// records wildcard values into ps. Static children win over parameters, which
// win over catch-alls; a failed branch backtracks.
func (n *node) match(path string, ps *params) *leaf {
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
	for i, b := range n.indices {
		if b == c0 {
			child := n.children[i]
			if len(path) >= len(child.prefix) && path[:len(child.prefix)] == child.prefix {
				if l := child.match(path[len(child.prefix):], ps); l != nil {
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
			if l := n.param.match(path[end:], ps); l != nil {
				return l
			}
			ps.n = mark
		}
	}
	if n.wild != nil && n.wild.leaf != nil {
		ps.push(path)
		return n.wild.leaf
	}
	return nil
}

// walk calls fn for every leaf below n.
func (n *node) walk(fn func(*leaf)) {
	if n.leaf != nil {
		fn(n.leaf)
	}
	for _, c := range n.children {
		c.walk(fn)
	}
	if n.param != nil {
		n.param.walk(fn)
	}
	if n.wild != nil {
		n.wild.walk(fn)
	}
}

// maxParams bounds the wildcards of one pattern so that a Ctx can keep their
// values in a fixed array.
const maxParams = 16

// params holds the wildcard values of one match, by position.
type params struct {
	vals [maxParams]string
	n    int
}

func (p *params) push(v string) {
	if p.n < maxParams {
		p.vals[p.n] = v
	}
	p.n++
}
