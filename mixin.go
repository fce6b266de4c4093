package graft

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unsafe"
)

// Mixin is embedded by an extension's mixin type to reach the request
// context it extends. An app's context type embeds graft.Ctx and mixins; the
// app binds each mixin to its Ctx once, when the pooled context is made, so
// a mixin method is a plain method call with its base at hand:
//
//	type Responder struct{ graft.Mixin }
//
//	func (r *Responder) Msgpack(v any) error {
//		b, err := msgpack.Marshal(v)
//		if err != nil {
//			return err
//		}
//		return r.Ctx().Bytes(200, "application/msgpack", b)
//	}
type Mixin struct {
	base *Ctx
}

// Ctx returns the request context the mixin is bound to.
func (m *Mixin) Ctx() *Ctx { return m.base }

func (m *Mixin) bindCtx(c *Ctx) { m.base = c }

// ctxBinder is implemented by every type that embeds Mixin.
type ctxBinder interface{ bindCtx(*Ctx) }

// Resetter is implemented by mixins that keep per-request state; ResetState
// runs when the context goes back to its pool.
type Resetter interface{ ResetState() }

// mixinPlan finds the mixins embedded in the context type t and returns, for
// each, a function that binds it to the Ctx of a new value. It fails when two
// mixins (or a mixin and graft.Ctx) define the same method and t does not
// settle the clash by declaring the method itself.
func mixinPlan(t reflect.Type) ([]func(p unsafe.Pointer, c *Ctx), error) {
	resetterT := reflect.TypeFor[Resetter]()
	var binders []func(unsafe.Pointer, *Ctx)
	owners := map[string][]string{}
	binderT := reflect.TypeFor[ctxBinder]()
	mixinMethods := map[string]bool{}
	for m := range reflect.PointerTo(reflect.TypeFor[Mixin]()).Methods() {
		mixinMethods[m.Name] = true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.Anonymous {
			continue
		}
		ft := f.Type
		pt := reflect.PointerTo(ft)
		if ft.Kind() == reflect.Pointer {
			return nil, fmt.Errorf("graft: context type %s embeds %s by pointer; embed mixins by value so the pooled context owns them", t, ft)
		}
		for m := range pt.Methods() {
			if ft != reflect.TypeFor[Ctx]() && (mixinMethods[m.Name] || m.Name == "ResetState") {
				continue
			}
			owners[m.Name] = append(owners[m.Name], ft.String())
		}
		if pt.Implements(binderT) && ft != reflect.TypeFor[Ctx]() {
			off, ftype, resets := f.Offset, ft, pt.Implements(resetterT)
			binders = append(binders, func(p unsafe.Pointer, c *Ctx) {
				m := reflect.NewAt(ftype, unsafe.Add(p, off)).Interface()
				m.(ctxBinder).bindCtx(c)
				if resets {
					c.resetters = append(c.resetters, m.(Resetter))
				}
			})
		}
	}
	own := map[string]bool{}
	for m := range reflect.PointerTo(t).Methods() {
		own[m.Name] = true
	}
	var clashes []string
	for name, who := range owners {
		if len(who) > 1 && !own[name] {
			clashes = append(clashes, fmt.Sprintf("%s (defined by %s)", name, strings.Join(who, " and ")))
		}
	}
	if len(clashes) > 0 {
		sort.Strings(clashes)
		return nil, fmt.Errorf("graft: context type %s: ambiguous methods %s; declare the method on %s to choose, or drop one of the extensions", t, strings.Join(clashes, ", "), t)
	}
	return binders, nil
}
