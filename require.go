package graft

import (
	"flag"
	"fmt"
	"reflect"

	"github.com/graftgo/graft/di"
)

// Require returns the extension of type E that the extension being
// extended requires: the one registered on its scope or the nearest
// enclosing scope. It gives a typed handle on what Requires only orders, so
// an access log can read the header name the request-id extension it
// requires was configured with:
//
//	func (l *accessLog) Requires() []string { return []string{requestid.ID} }
//	func (l *accessLog) Extend(b *graft.Builder) error {
//		rid, err := graft.Require[*requestid.Extension](b)
//		if err != nil {
//			return err
//		}
//		header := rid.Header
//		…
//	}
//
// It fails when no extension of type E is in reach, and when the extension
// found is not listed in Requires (so it might not be extended and started
// before the one asking).
func Require[E Extension](b *Builder) (E, error) {
	var zero E
	want := reflect.TypeFor[E]()
	var found *extRecord
	for _, r := range b.core.exts.recs {
		et := reflect.TypeOf(r.ext)
		if (et == want || (want.Kind() == reflect.Interface && et.Implements(want))) && encloses(r.sc, b.sc) {
			if found == nil || encloses(found.sc, r.sc) {
				found = r
			}
		}
	}
	if found == nil {
		return zero, fmt.Errorf("extension %s requires an extension of type %s, which is not registered on %s or an enclosing scope; register it first", b.ID(), want, scopeName(b.sc))
	}
	listed := false
	for _, id := range b.rec.requires {
		if id == found.ext.ID() {
			listed = true
		}
	}
	if !listed {
		return zero, fmt.Errorf("extension %s uses Require[%s] but does not list %q in Requires(); add it so that %s is extended and started first", b.ID(), want, found.ext.ID(), found.ext.ID())
	}
	return found.ext.(E), nil
}

// FlagDefiner is implemented by extensions that take command-line flags:
// DefineFlags runs when the extension is registered, so its flags exist
// before Run parses the command line (Extend runs later, at start-up, and
// reads the parsed values).
type FlagDefiner interface {
	DefineFlags(fs *flag.FlagSet)
}

// Plugins adds endpoint plugins to every typed endpoint of the
// extension's scope, as Group.UsePlugins does: an extension can bring the
// plugins that go with it.
func (b *Builder) Plugins(p ...Plugin) {
	b.sc.plugins = append(b.sc.plugins, p...)
	for _, x := range p {
		b.note("plugin " + pluginName(x))
	}
}

// Graph returns the app's dependency graph, for an extension that provides
// values to typed endpoints and providers (di.Value, di.Provide…). Provide
// during Extend, Provision or Start: the graph is sealed once the app
// started.
func (b *Builder) Graph() *di.Graph { return b.core.graph }

// note records a contribution of the extension for listings.
func (b *Builder) note(what string) {
	b.rec.contrib = append(b.rec.contrib, what)
}

// Contribute records what the extension added through an extension point
// defined outside the core (the ws package's connection hooks, for one),
// so that app.Extensions() and WriteExtensions list it with what the
// Builder's own methods record: a short phrase naming the point and, if
// any, its target ("ws open hook", "encoder application/cbor"). Packages
// that define extension points call it; an extension rarely needs to.
func (b *Builder) Contribute(what string) {
	if what != "" {
		b.note(what)
	}
}

// Covers reports whether route r is in the scope of the extension that b
// was given to: registered on that scope (the app, or the group) or on one
// of its sub-groups. An extension that attaches behaviour to routes at
// start-up (WebSocket connection hooks, for one) uses it to find its
// routes by scope, not by path prefix, so two sibling groups with the same
// prefix stay apart.
func (b *Builder) Covers(r *Route) bool { return encloses(b.sc, r.rt.sc) }
