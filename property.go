package graft

import (
	"fmt"
	"math/bits"
	"sync"
)

// Property is a typed piece of per-instance state that an extension adds to
// every request context and WebSocket connection: socketify's
// property(name, default), with a default built by a factory for each
// instance instead of one default object shared by all.
//
// Declare a property once, at package level, and read or write it from
// handlers, middleware, extension methods and plugins:
//
//	var Cart = graft.NewProperty("cart", func() []string { return nil })
//
//	items := Cart.Get(c)
//	Cart.Set(c, append(items, "apple"))
//
// Each property owns a fixed slot in every pooled context and connection, so
// Get and Set are an index and a pointer away and allocate nothing; the slot
// is cleared when the context goes back to its pool.
type Property[T any] struct {
	name string
	idx  int
	def  func() T
}

// Holder is anything that carries property slots: *Ctx, the app's own
// context type that embeds it, and WebSocket connections (ws.Socket). A
// package that pools objects of its own makes them holders with a Props
// field: Props.Init when the object is made, Props.Reset when it is
// released, and a Properties method returning the field.
type Holder interface {
	Properties() *Props
}

// NewProperty declares a property. def builds the default value for each
// instance the first time the property is read after a reset; a nil def
// means the zero value. Names are for messages and listings; two properties
// with the same name cannot be registered with the same app.
func NewProperty[T any](name string, def func() T) *Property[T] {
	p := &Property[T]{name: name, def: def}
	registry.Lock()
	p.idx = len(registry.makers)
	registry.makers = append(registry.makers, func() slot { return new(box[T]) })
	registry.Unlock()
	return p
}

// Name returns the property's name.
func (p *Property[T]) Name() string { return p.name }

// ID returns the extension id of the property, "graft.property.NAME".
func (p *Property[T]) ID() string { return "graft.property." + p.name }

// String describes the property for messages.
func (p *Property[T]) String() string { return fmt.Sprintf("property %q", p.name) }

// Get returns the value of the property on h, building its default first if
// it has not been set since h was reset.
func (p *Property[T]) Get(h Holder) T {
	ps := h.Properties()
	if p.idx < len(ps.slots) {
		if b, ok := ps.slots[p.idx].(*box[T]); ok && b.set {
			return b.v
		}
	}
	return p.getSlow(ps)
}

// getSlow builds the default (and the slot, for a property declared after
// h was made).
func (p *Property[T]) getSlow(ps *Props) T {
	b := p.box(ps)
	if !b.set {
		if p.def != nil {
			b.v = p.def()
		}
		b.set = true
	}
	return b.v
}

// Set stores v as the value of the property on h.
func (p *Property[T]) Set(h Holder, v T) {
	ps := h.Properties()
	if p.idx < 64 && p.idx < len(ps.slots) {
		if b, ok := ps.slots[p.idx].(*box[T]); ok {
			b.v, b.set = v, true
			ps.dirty |= 1 << uint(p.idx)
			return
		}
	}
	b := p.box(ps)
	b.v, b.set = v, true
}

// Ptr returns a pointer to the value of the property on h (building the
// default first), valid until h is released; use it to update the value in
// place.
func (p *Property[T]) Ptr(h Holder) *T {
	ps := h.Properties()
	p.getSlow(ps)
	return &p.box(ps).v
}

// IsSet reports whether the property holds a value on h since its last
// reset.
func (p *Property[T]) IsSet(h Holder) bool {
	ps := h.Properties()
	return p.idx < len(ps.slots) && ps.slots[p.idx] != nil && ps.slots[p.idx].(*box[T]).set
}

func (p *Property[T]) box(ps *Props) *box[T] {
	if p.idx >= len(ps.slots) || ps.slots[p.idx] == nil {
		ps.grow(p.idx)
	}
	ps.mark(p.idx)
	return ps.slots[p.idx].(*box[T])
}

// Props holds the property slots of one context or connection. It is built
// with a slot for every property declared when the instance is made, and
// grows for properties declared later.
type Props struct {
	slots []slot
	dirty uint64 // bit i: slot i may hold a value
	high  bool   // a slot at index 64 or more may hold a value
}

// slot is one property value box.
type slot interface{ clear() }

type box[T any] struct {
	v   T
	set bool
}

func (b *box[T]) clear() {
	var zero T
	b.v, b.set = zero, false
}

// registry records how to make the slot of every declared property.
var registry struct {
	sync.RWMutex
	makers []func() slot
}

// Init fills ps with one slot per declared property; call it once, when
// the object holding ps is made (properties declared later get their slot
// on first use).
func (ps *Props) Init() {
	registry.RLock()
	ps.slots = make([]slot, len(registry.makers))
	for i, mk := range registry.makers {
		ps.slots[i] = mk()
	}
	registry.RUnlock()
}

// grow makes the slot for index i (a property declared after the instance
// was made).
func (ps *Props) grow(i int) {
	registry.RLock()
	defer registry.RUnlock()
	if i >= len(ps.slots) {
		s := make([]slot, len(registry.makers))
		copy(s, ps.slots)
		ps.slots = s
	}
	if ps.slots[i] == nil {
		ps.slots[i] = registry.makers[i]()
	}
}

func (ps *Props) mark(i int) {
	if i < 64 {
		ps.dirty |= 1 << uint(i)
	} else {
		ps.high = true
	}
}

// Reset clears every slot touched since the last reset; call it when the
// object holding ps is released, so that the next user sees every
// property at its default.
func (ps *Props) Reset() {
	for d := ps.dirty; d != 0; d &= d - 1 {
		ps.slots[bits.TrailingZeros64(d)].clear()
	}
	ps.dirty = 0
	if ps.high {
		for _, s := range ps.slots[64:] {
			if s != nil {
				s.clear()
			}
		}
		ps.high = false
	}
}
