package di

import (
	"reflect"
	"slices"
)

// plan is one compiled, validated, immutable view of the graph. Scopes and
// resolvers hold the plan they were made with; a registration after Build
// makes a new plan without disturbing them.
type plan struct {
	g       *Graph
	err     error
	nodes   map[reflect.Type]nodeI   // provided types
	ext     map[reflect.Type]*extAny // external types with a scope slot
	metas   map[reflect.Type]*meta   // provided types
	bound   map[reflect.Type]bool    // provided types: needs a request scope
	nScoped int
	nExt    int
	root    *Scope // scope used to build singletons
}

// lookup returns the node for t: a provider, an external slot, or a
// non-cached external by predicate. ok is false if t is unknown.
func (p *plan) lookup(t reflect.Type) (nodeI, bool) {
	if n, ok := p.nodes[t]; ok {
		return n, true
	}
	if e, ok := p.ext[t]; ok {
		return e, true
	}
	if p.g.IsExternal(t) {
		return &extAny{typ: t, slot: -1}, true
	}
	return nil, false
}

// compileLocked validates the registrations and compiles a plan; g.mu held.
func (g *Graph) compileLocked() *plan {
	p := &plan{
		g:     g,
		nodes: make(map[reflect.Type]nodeI, len(g.providers)),
		ext:   make(map[reflect.Type]*extAny),
		metas: make(map[reflect.Type]*meta, len(g.providers)),
		bound: make(map[reflect.Type]bool, len(g.providers)),
	}
	errs := slices.Clone(g.regErrs)
	addExt := func(t reflect.Type) {
		if _, ok := p.ext[t]; !ok {
			p.ext[t] = &extAny{typ: t, slot: p.nExt}
			p.nExt++
		}
	}
	for _, t := range g.order {
		p.metas[t] = g.providers[t].info()
	}

	// Missing dependencies and externals.
	for _, t := range g.order {
		for _, d := range p.metas[t].deps {
			if _, ok := p.metas[d]; ok {
				continue
			}
			if g.isExternalLocked(d) {
				addExt(d)
				continue
			}
			errs = append(errs, &MissingError{Type: d, NeededBy: t})
		}
	}
	for _, t := range g.extOrder {
		if _, ok := p.metas[t]; !ok {
			addExt(t)
		}
	}

	// Cycles.
	cyclic := false
	const (
		white = iota
		grey
		black
	)
	color := make(map[reflect.Type]int, len(g.order))
	var stack []reflect.Type
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		color[t] = grey
		stack = append(stack, t)
		for _, d := range p.metas[t].deps {
			if _, ok := p.metas[d]; !ok {
				continue
			}
			switch color[d] {
			case white:
				visit(d)
			case grey:
				i := slices.Index(stack, d)
				path := append(slices.Clone(stack[i:]), d)
				errs = append(errs, &CycleError{Path: path})
				cyclic = true
			}
		}
		stack = stack[:len(stack)-1]
		color[t] = black
	}
	for _, t := range g.order {
		if color[t] == white {
			visit(t)
		}
	}

	// Captive dependencies: which nodes are request-bound, and through what.
	if !cyclic {
		via := make(map[reflect.Type][]reflect.Type, len(g.order)) // path to the bound leaf
		done := make(map[reflect.Type]bool, len(g.order))
		var bound func(t reflect.Type) []reflect.Type
		bound = func(t reflect.Type) []reflect.Type {
			m, ok := p.metas[t]
			if !ok {
				return []reflect.Type{t} // external
			}
			if done[t] {
				return via[t]
			}
			done[t] = true
			var path []reflect.Type
			switch m.lt {
			case Scoped:
				path = []reflect.Type{t}
			case Transient:
				for _, d := range m.deps {
					if b := bound(d); b != nil {
						path = append([]reflect.Type{t}, b...)
						break
					}
				}
			case Singleton:
				for _, d := range m.deps {
					if b := bound(d); b != nil {
						full := append([]reflect.Type{t}, b...)
						_, isProvided := p.metas[full[len(full)-1]]
						errs = append(errs, &CaptiveError{Path: full, External: !isProvided})
						break
					}
				}
			}
			via[t] = path
			p.bound[t] = path != nil
			return path
		}
		for _, t := range g.order {
			bound(t)
		}
	}

	if len(errs) > 0 {
		p.err = joinErrors(errs)
		return p
	}

	// Compile: create every node, then bind each to its dependencies.
	for _, t := range g.order {
		m := p.metas[t]
		slot := -1
		if m.lt == Scoped {
			slot = p.nScoped
			p.nScoped++
		}
		p.nodes[t] = g.providers[t].newNode(p, slot)
	}
	for _, t := range g.order {
		m := p.metas[t]
		deps := make([]dep, len(m.deps))
		for i, d := range m.deps {
			deps[i] = dep{typ: d}
			if n, ok := p.nodes[d]; ok {
				deps[i].node = n
			} else {
				deps[i].ext = p.ext[d].slot
			}
		}
		p.nodes[t].bind(deps)
	}
	p.root = &Scope{g: g, plan: p, root: true}
	return p
}
