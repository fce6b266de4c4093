// Package mixscan holds the reflection checks that package graft (context
// mixins) and package ws (connection mixins) share.
package mixscan

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Inside returns the name of a type holding a target (Mixin or
// ConnMixin) reachable inside t through pointers and containers, or "".
func Inside(t, target reflect.Type, seen map[reflect.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		if t.Kind() == reflect.Map {
			if s := Inside(t.Key(), target, seen); s != "" {
				return s
			}
		}
		return Inside(t.Elem(), target, seen)
	case reflect.Struct:
		if t == target {
			return t.String()
		}
		for i := range t.NumField() {
			if s := Inside(t.Field(i).Type, target, seen); s != "" {
				if t.Field(i).Type == target {
					return t.String()
				}
				return s
			}
		}
	}
	return ""
}

// frameworkMethods are methods every mixin promotes (Ctx, Socket,
// Extension, ResetState): not clashes.
var frameworkMethods = map[string]bool{"Ctx": true, "Socket": true, "Extension": true, "ResetState": true}

// Clashes reports methods that two embedded fields of t promote at
// the same depth (so neither wins and the method is lost) unless t declares
// the method itself. base is the framework type t embeds (graft.Ctx), whose
// methods count as an owner too; what names clash is a promoted method of
// the same name through two embedded fields.
func Clashes(t reflect.Type, what string, base reflect.Type) error {
	owners := map[string][]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.Anonymous || f.Type.Kind() == reflect.Pointer {
			continue
		}
		for m := range reflect.PointerTo(f.Type).Methods() {
			if f.Type != base && frameworkMethods[m.Name] {
				continue
			}
			owners[m.Name] = append(owners[m.Name], f.Type.String())
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
	if len(clashes) == 0 {
		return nil
	}
	sort.Strings(clashes)
	return fmt.Errorf("%s %s: ambiguous methods %s; declare the method on %s to choose, or drop one of the extensions", what, t, strings.Join(clashes, ", "), t)
}
