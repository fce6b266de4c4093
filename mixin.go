package graft

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/graftgo/graft/internal/mixscan"
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
//
// Mixins are bound wherever they sit in the context type: embedded or in a
// named field, inside another mixin, at any depth, as long as every struct
// on the way is held by value. A mixin behind a pointer, in a slice, array,
// map or interface cannot be bound and is rejected by New with the path of
// the field.
//
// A mixin that needs its extension registered (to read the extension's
// configuration or resources) embeds MixinOf instead.
type Mixin struct {
	base *Ctx
}

// Ctx returns the request context the mixin is bound to.
func (m *Mixin) Ctx() *Ctx { return m.base }

// MixinOf is Mixin for a mixin that belongs to an extension of type E: the
// app checks at start-up that an extension of that type is registered (and
// fails naming the field, the extension and the fix when none is), and the
// mixin reaches the registered value through Extension:
//
//	type Jar struct{ graft.MixinOf[*Extension] }
//
//	func (j *Jar) Cookie(name string) string {
//		if j.Extension().Signed { … }
//	}
type MixinOf[E Extension] struct {
	Mixin
	owner *ownerRef
}

// Extension returns the extension the mixin belongs to: the one registered
// on the scope of the request's route (the nearest enclosing one), or the
// zero E for a request outside every scope that registered one (possible
// only when the extension is registered on groups, not on the app).
func (m *MixinOf[E]) Extension() E {
	v, _ := m.owner.find(m.base).(E)
	return v
}

func (m *MixinOf[E]) ownerType() reflect.Type { return reflect.TypeFor[E]() }

func (m *MixinOf[E]) bindOwner(r *ownerRef) { m.owner = r }

// ownedMixin is implemented by every MixinOf instantiation.
type ownedMixin interface {
	ownerType() reflect.Type
	bindOwner(r *ownerRef)
}

// ownerRef holds the extensions a MixinOf field belongs to, filled at
// start-up: one value when a single scope registered it, else one per
// scope, looked up along the request's scope chain.
type ownerRef struct {
	typ     reflect.Type
	field   string // path of the field in the context type, for messages
	single  any
	byScope map[*scope]any
}

func (r *ownerRef) find(c *Ctx) any {
	if r == nil {
		return nil
	}
	if r.byScope == nil {
		return r.single
	}
	for s := c.scope(); s != nil; s = s.parent {
		if v, ok := r.byScope[s]; ok {
			return v
		}
	}
	return nil
}

// Resetter is implemented by mixins that keep per-request state; ResetState
// runs when the context goes back to its pool. Along each path into the
// context type, the outermost value whose pointer has a ResetState method is
// called (a mixin that embeds another resetting mixin, and declares its own
// ResetState, resets what it embeds itself, as Go composition goes).
type Resetter interface{ ResetState() }

// mixinLayout is what the app knows of a context type's mixins, found once
// by reflection: where each Mixin sits, which values reset, which belong to
// an extension.
type mixinLayout struct {
	bases     []uintptr     // offsets of every Mixin
	resetters []fieldOfType // outermost Resetters
	owned     []ownedField  // MixinOf fields
}

type fieldOfType struct {
	off uintptr
	typ reflect.Type
}

type ownedField struct {
	off uintptr
	typ reflect.Type
	ref *ownerRef
}

// bind binds the mixins of the context value at p to c.
func (l *mixinLayout) bind(p unsafe.Pointer, c *Ctx) {
	for _, off := range l.bases {
		(*Mixin)(unsafe.Add(p, off)).base = c
	}
	for _, o := range l.owned {
		reflect.NewAt(o.typ, unsafe.Add(p, o.off)).Interface().(ownedMixin).bindOwner(o.ref)
	}
	for _, r := range l.resetters {
		c.resetters = append(c.resetters, reflect.NewAt(r.typ, unsafe.Add(p, r.off)).Interface().(Resetter))
	}
}

var (
	mixinType    = reflect.TypeFor[Mixin]()
	ctxType      = reflect.TypeFor[Ctx]()
	resetterType = reflect.TypeFor[Resetter]()
	ownedType    = reflect.TypeFor[ownedMixin]()
)

// mixinPlan finds the mixins in the context type t. It fails when a mixin
// cannot be bound (behind a pointer, in a container), naming the field, and
// when two mixins (or a mixin and graft.Ctx) define the same method and t
// does not settle the clash by declaring the method itself.
func mixinPlan(t reflect.Type, ctxOff uintptr) (*mixinLayout, error) {
	l := &mixinLayout{}
	var walk func(ft reflect.Type, off uintptr, path string, resetCovered bool) error
	walk = func(ft reflect.Type, off uintptr, path string, resetCovered bool) error {
		if ft == mixinType {
			l.bases = append(l.bases, off)
			return nil
		}
		if ft == ctxType {
			if path == "Ctx" && off == ctxOff {
				return nil // the context itself
			}
			return fmt.Errorf("graft: context type %s holds a second graft.Ctx at %s; embed graft.Ctx once, as the first field", t, path)
		}
		if ft.Kind() != reflect.Struct {
			if at := mixscan.Inside(ft, mixinType, map[reflect.Type]bool{}); at != "" {
				return fmt.Errorf("graft: context type %s: the mixin %s at %s cannot be bound (it is behind a %s); hold mixins by value in structs", t, at, path, ft.Kind())
			}
			return nil
		}
		pt := reflect.PointerTo(ft)
		if path != "" && pt.Implements(ownedType) {
			o := reflect.New(ft).Interface().(ownedMixin)
			l.owned = append(l.owned, ownedField{off: off, typ: ft, ref: &ownerRef{typ: o.ownerType(), field: path}})
		}
		if path != "" && !resetCovered && pt.Implements(resetterType) {
			l.resetters = append(l.resetters, fieldOfType{off: off, typ: ft})
			resetCovered = true
		}
		for i := range ft.NumField() {
			f := ft.Field(i)
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if err := walk(f.Type, off+f.Offset, p, resetCovered); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(t, 0, "", false); err != nil {
		return nil, err
	}
	if err := mixscan.Clashes(t, "graft: context type", ctxType); err != nil {
		return nil, err
	}
	return l, nil
}

// resolveOwners fills every MixinOf field's extensions from the registered
// ones, reporting the fields whose extension is missing.
func (a *core) resolveOwners() error {
	if a.mixins == nil {
		return nil
	}
	var errs []string
	for _, o := range a.mixins.owned {
		r := o.ref
		r.single, r.byScope = nil, nil
		var found []*extRecord
		for _, rec := range a.exts.recs {
			if et := reflect.TypeOf(rec.ext); et == r.typ || (r.typ.Kind() == reflect.Interface && et.Implements(r.typ)) {
				found = append(found, rec)
			}
		}
		switch {
		case len(found) == 0:
			errs = append(errs, fmt.Sprintf("the mixin at %s belongs to an extension of type %s%s, which is not registered; register it with app.Register before the routes", r.field, r.typ, ownerIDHint(r.typ)))
		case len(found) == 1 && found[0].sc == a.top:
			r.single = found[0].ext
		default:
			r.byScope = map[*scope]any{}
			for _, rec := range found {
				r.byScope[rec.sc] = rec.ext
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("graft: context type %s: %s", a.ctxType, strings.Join(errs, "; "))
	}
	return nil
}

// ownerIDHint names the ID of an extension type when its zero value can
// tell it, for messages.
func ownerIDHint(t reflect.Type) (hint string) {
	defer func() {
		if recover() != nil {
			hint = ""
		}
	}()
	if t.Kind() == reflect.Interface {
		return ""
	}
	var v reflect.Value
	if t.Kind() == reflect.Pointer {
		v = reflect.New(t.Elem())
	} else {
		v = reflect.New(t).Elem()
	}
	if e, ok := v.Interface().(Extension); ok {
		if id := e.ID(); id != "" {
			return " (id " + id + ")"
		}
	}
	return ""
}
