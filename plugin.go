package graft

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/graftgo/graft/di"
)

// Plugin decorates typed endpoints: lihil's IPlugin. Apply runs once per
// endpoint at start-up, after the lifespan hooks ran (so resources they put
// in the graph are there), with the app's dependency graph, the endpoint
// handler built so far and the endpoint's Signature. It returns the handler
// to serve: next itself when the endpoint does not concern it (which costs
// nothing per request), or a function that wraps next. It may add to the
// signature (AddParam, AddReturn). An error, or a panic, stops start-up
// with a message naming the endpoint and the plugin.
type Plugin interface {
	Apply(g *di.Graph, next Endpoint, sig *Signature) (Endpoint, error)
}

// PluginFunc adapts a function to Plugin.
type PluginFunc func(g *di.Graph, next Endpoint, sig *Signature) (Endpoint, error)

// Apply calls f.
func (f PluginFunc) Apply(g *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
	return f(g, next, sig)
}

// PluginFactory builds a plugin at start-up, per endpoint, after the
// lifespan hooks: config and resources the hooks put in the graph are in
// reach (lihil's plugin factory). The plugin it returns is applied at once.
type PluginFactory func(g *di.Graph, sig *Signature) (Plugin, error)

// Apply builds the plugin and applies it.
func (f PluginFactory) Apply(g *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
	p, err := f(g, sig)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return next, nil
	}
	return p.Apply(g, next, sig)
}

// Plugins adds plugins to a group (App.Group, Group.Group) or to one typed
// endpoint (Get, Post…). Plugins apply to typed endpoints only; plain
// handlers have middleware.
//
// Order: the app's plugins (Group.UsePlugins on the App) wrap outermost,
// then each group's from the outer group inwards, then the endpoint's own;
// within one list the first wraps outside the next. A plugin value found
// twice for one endpoint (same value: the same pointer, the same func) is
// applied once, at its outermost place.
func Plugins(p ...Plugin) Option {
	return func(s *settings) { s.plugins = append(s.plugins, p...) }
}

// UsePlugins adds plugins to every typed endpoint of the group and its
// sub-groups, whenever they were registered; on the App, to every typed
// endpoint of the app.
func (g *Group[C]) UsePlugins(p ...Plugin) {
	g.sc.core.checkNotStarted("adding plugins")
	g.sc.plugins = append(g.sc.plugins, p...)
}

// NamedPlugin gives a plugin a name for start-up errors and listings.
func NamedPlugin(name string, p Plugin) Plugin { return namedPlugin{name: name, Plugin: p} }

type namedPlugin struct {
	name string
	Plugin
}

// pluginName names a plugin in errors: its NamedPlugin name, its
// function's name for funcs, else its type.
func pluginName(p Plugin) string {
	if n, ok := p.(namedPlugin); ok {
		return n.name
	}
	v := reflect.ValueOf(p)
	if v.Kind() == reflect.Func {
		if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
			return fn.Name()
		}
	}
	return fmt.Sprintf("%T", p)
}

// pluginKey returns the identity of a plugin value for deduplication, or
// nil when it has none (a non-comparable value).
func pluginKey(p Plugin) any {
	if n, ok := p.(namedPlugin); ok {
		return pluginKey(n.Plugin)
	}
	t := reflect.TypeOf(p)
	switch {
	case t.Kind() == reflect.Func:
		return funcKey{t: t, p: uintptr(efaceData(p))}
	case t.Comparable():
		return p
	}
	return nil
}

type funcKey struct {
	t reflect.Type
	p uintptr
}

// samePlugin compares identities; values whose dynamic parts are not
// comparable are never the same.
func samePlugin(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// endpointPlugins lists the plugins of the route outermost first (app,
// groups from the outside in, the endpoint), each value once.
func endpointPlugins(ri *Route) []Plugin {
	var all []Plugin
	for _, s := range ri.rt.sc.lineage() {
		all = append(all, s.plugins...)
	}
	all = append(all, ri.rt.plugins...)
	var out []Plugin
	var keys []any
next:
	for _, p := range all {
		if p == nil {
			continue
		}
		k := pluginKey(p)
		if k != nil {
			for _, seen := range keys {
				if samePlugin(seen, k) {
					continue next
				}
			}
			keys = append(keys, k)
		}
		out = append(out, p)
	}
	return out
}

// applyPlugins wraps base with the route's plugins, innermost (the
// endpoint's last) first, so that the outermost plugin runs first.
func applyPlugins(ri *Route, ep *endpoint, base Endpoint) (Endpoint, error) {
	ps := endpointPlugins(ri)
	h := base
	st := &ep.sig.plug
	for i := len(ps) - 1; i >= 0; i-- {
		nPre, nMw, nBind := len(st.preBind), len(st.mws), len(st.binds)
		next, err := applyOne(ps[i], ep.graph, h, ep.sig)
		st.preBind, st.mws, st.binds = moveToFront(st.preBind, nPre), moveToFront(st.mws, nMw), moveToFront(st.binds, nBind)
		if err != nil {
			return nil, fmt.Errorf("graft: endpoint %s %s: plugin %s: %w", methodLabel(ri.Method()), ri.Pattern(), pluginName(ps[i]), err)
		}
		if next == nil {
			return nil, fmt.Errorf("graft: endpoint %s %s: plugin %s returned a nil handler; return next to leave the endpoint as it is", methodLabel(ri.Method()), ri.Pattern(), pluginName(ps[i]))
		}
		h = next
	}
	return h, nil
}

// applyOne applies a plugin, turning its panic into an error. A setup
// panic of graft's plugin API naming this endpoint (a bad Bind) is the
// plugin's mistake, reported without the endpoint named twice.
func applyOne(p Plugin, g *di.Graph, next Endpoint, sig *Signature) (h Endpoint, err error) {
	defer func() {
		if v := recover(); v != nil {
			if s, ok := v.(string); ok {
				if rest, ok := strings.CutPrefix(s, "graft: endpoint "+methodLabel(sig.Method)+" "+sig.Route+": "); ok {
					err = errors.New(rest)
					return
				}
			}
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return p.Apply(g, next, sig)
}
