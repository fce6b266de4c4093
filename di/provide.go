package di

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
)

// buildFunc builds one T in scope s, returning an optional cleanup.
type buildFunc[T any] func(s *Scope) (T, func(), error)

// Ctor is a typed constructor for T whose dependencies are known statically.
// Make one with Func0…Func4 (for func(deps…) (T, error)) or Func0C…Func4C
// (for func(deps…) (T, func(), error), where the func is a cleanup), and pass
// it to Provide or Override. The constructor is called directly through a
// closure built once at Build: no reflection happens per resolution.
type Ctor[T any] struct {
	deps []reflect.Type
	bind func(typ reflect.Type, deps []dep) buildFunc[T]
	err  string
}

// Deps returns the dependency types of the constructor, in parameter order.
func (c Ctor[T]) Deps() []reflect.Type { return append([]reflect.Type(nil), c.deps...) }

func buildErr(typ reflect.Type, err error) error { return &BuildError{Type: typ, Err: err} }

func nilCtor[T any]() Ctor[T] {
	return Ctor[T]{err: "nil constructor for " + typeName(reflect.TypeFor[T]())}
}

// Func0 wraps a constructor without dependencies.
func Func0[T any](f func() (T, error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Func0C(func() (T, func(), error) { v, err := f(); return v, nil, err })
}

// Func1 wraps a constructor with one dependency.
func Func1[T, A any](f func(A) (T, error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Func1C(func(a A) (T, func(), error) { v, err := f(a); return v, nil, err })
}

// Func2 wraps a constructor with two dependencies.
func Func2[T, A, B any](f func(A, B) (T, error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Func2C(func(a A, b B) (T, func(), error) { v, err := f(a, b); return v, nil, err })
}

// Func3 wraps a constructor with three dependencies.
func Func3[T, A, B, C any](f func(A, B, C) (T, error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Func3C(func(a A, b B, c C) (T, func(), error) { v, err := f(a, b, c); return v, nil, err })
}

// Func4 wraps a constructor with four dependencies. For more, group
// dependencies in a struct that has its own provider, or use ProvideFunc.
func Func4[T, A, B, C, D any](f func(A, B, C, D) (T, error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Func4C(func(a A, b B, c C, d D) (T, func(), error) { v, err := f(a, b, c, d); return v, nil, err })
}

// Func0C wraps a constructor without dependencies that returns a cleanup.
func Func0C[T any](f func() (T, func(), error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Ctor[T]{
		bind: func(typ reflect.Type, _ []dep) buildFunc[T] {
			return func(*Scope) (T, func(), error) {
				v, c, err := f()
				if err != nil {
					return v, nil, buildErr(typ, err)
				}
				return v, c, nil
			}
		},
	}
}

// Func1C wraps a constructor with one dependency that returns a cleanup.
func Func1C[T, A any](f func(A) (T, func(), error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Ctor[T]{
		deps: []reflect.Type{reflect.TypeFor[A]()},
		bind: func(typ reflect.Type, d []dep) buildFunc[T] {
			ga := getterFor[A](d[0])
			return func(s *Scope) (v T, _ func(), err error) {
				a, err := ga.get(s)
				if err != nil {
					return v, nil, err
				}
				v, c, err := f(a)
				if err != nil {
					return v, nil, buildErr(typ, err)
				}
				return v, c, nil
			}
		},
	}
}

// Func2C wraps a constructor with two dependencies that returns a cleanup.
func Func2C[T, A, B any](f func(A, B) (T, func(), error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Ctor[T]{
		deps: []reflect.Type{reflect.TypeFor[A](), reflect.TypeFor[B]()},
		bind: func(typ reflect.Type, d []dep) buildFunc[T] {
			ga, gb := getterFor[A](d[0]), getterFor[B](d[1])
			return func(s *Scope) (v T, _ func(), err error) {
				a, err := ga.get(s)
				if err != nil {
					return v, nil, err
				}
				b, err := gb.get(s)
				if err != nil {
					return v, nil, err
				}
				v, c, err := f(a, b)
				if err != nil {
					return v, nil, buildErr(typ, err)
				}
				return v, c, nil
			}
		},
	}
}

// Func3C wraps a constructor with three dependencies that returns a cleanup.
func Func3C[T, A, B, C any](f func(A, B, C) (T, func(), error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Ctor[T]{
		deps: []reflect.Type{reflect.TypeFor[A](), reflect.TypeFor[B](), reflect.TypeFor[C]()},
		bind: func(typ reflect.Type, d []dep) buildFunc[T] {
			ga, gb, gc := getterFor[A](d[0]), getterFor[B](d[1]), getterFor[C](d[2])
			return func(s *Scope) (v T, _ func(), err error) {
				a, err := ga.get(s)
				if err != nil {
					return v, nil, err
				}
				b, err := gb.get(s)
				if err != nil {
					return v, nil, err
				}
				c, err := gc.get(s)
				if err != nil {
					return v, nil, err
				}
				v, cl, err := f(a, b, c)
				if err != nil {
					return v, nil, buildErr(typ, err)
				}
				return v, cl, nil
			}
		},
	}
}

// Func4C wraps a constructor with four dependencies that returns a cleanup.
func Func4C[T, A, B, C, D any](f func(A, B, C, D) (T, func(), error)) Ctor[T] {
	if f == nil {
		return nilCtor[T]()
	}
	return Ctor[T]{
		deps: []reflect.Type{reflect.TypeFor[A](), reflect.TypeFor[B](), reflect.TypeFor[C](), reflect.TypeFor[D]()},
		bind: func(typ reflect.Type, d []dep) buildFunc[T] {
			ga, gb, gc, gd := getterFor[A](d[0]), getterFor[B](d[1]), getterFor[C](d[2]), getterFor[D](d[3])
			return func(s *Scope) (v T, _ func(), err error) {
				a, err := ga.get(s)
				if err != nil {
					return v, nil, err
				}
				b, err := gb.get(s)
				if err != nil {
					return v, nil, err
				}
				c, err := gc.get(s)
				if err != nil {
					return v, nil, err
				}
				d, err := gd.get(s)
				if err != nil {
					return v, nil, err
				}
				v, cl, err := f(a, b, c, d)
				if err != nil {
					return v, nil, buildErr(typ, err)
				}
				return v, cl, nil
			}
		},
	}
}

// Provide registers c as the provider of T with lifetime lt. Problems
// (a second provider for T, a nil constructor, missing dependencies, cycles,
// captive dependencies) are reported by Build, not here, so registration
// code needs no error handling. Providing after Build is allowed: the plan is
// recompiled on the next Build (or lazily by the next NewScope / Resolver).
func Provide[T any](g *Graph, lt Lifetime, c Ctor[T]) {
	g.register(newProvider(lt, c, callerSite()), false)
}

// Override registers c as the provider of T, replacing any earlier provider
// (meant for tests: swap the real DB for a fake). If T had no provider,
// Override acts like Provide. A singleton already built by the replaced
// provider stays alive until Graph.Close but is no longer handed out.
func Override[T any](g *Graph, lt Lifetime, c Ctor[T]) {
	g.register(newProvider(lt, c, callerSite()), true)
}

// Value registers an existing instance as the singleton T (for resources
// created elsewhere, e.g. by lifespan start-up hooks). The graph does not
// clean it up: whoever created it owns it.
func Value[T any](g *Graph, v T) {
	g.register(newValueProvider(v, callerSite()), false)
}

// OverrideValue registers v as the singleton T, replacing any earlier
// provider of T (see Override).
func OverrideValue[T any](g *Graph, v T) {
	g.register(newValueProvider(v, callerSite()), true)
}

// ProvideFunc registers an arbitrary constructor function through
// reflection: f must be a func(deps…) (T, error) or func(deps…) (T, func(),
// error) with any number of parameters. It is a convenience for
// registration code that only has a reflect.Value; every resolution goes
// through reflect.Value.Call, so prefer Provide with Func0…Func4 on hot
// paths. Errors in f's shape are reported by Build.
func ProvideFunc(g *Graph, lt Lifetime, f any) {
	g.register(newReflectProvider(lt, f, callerSite()), false)
}

// OverrideFunc is ProvideFunc that replaces any earlier provider of the
// constructor's result type.
func OverrideFunc(g *Graph, lt Lifetime, f any) {
	g.register(newReflectProvider(lt, f, callerSite()), true)
}

var errType = reflect.TypeFor[error]()
var cleanupType = reflect.TypeFor[func()]()

func newReflectProvider(lt Lifetime, f any, site string) providerI {
	fv := reflect.ValueOf(f)
	bad := func(msg string) providerI {
		return &provider[any]{meta: meta{lt: lt, site: site, err: msg}}
	}
	if !fv.IsValid() || fv.Kind() != reflect.Func || fv.IsNil() {
		return bad("ProvideFunc needs a non-nil func, got " + typeName(reflect.TypeOf(f)))
	}
	ft := fv.Type()
	hasCleanup := false
	switch {
	case ft.NumOut() == 2 && ft.Out(1) == errType:
	case ft.NumOut() == 3 && ft.Out(1) == cleanupType && ft.Out(2) == errType:
		hasCleanup = true
	default:
		return bad("ProvideFunc: " + ft.String() + " must return (T, error) or (T, func(), error)")
	}
	if ft.IsVariadic() {
		return bad("ProvideFunc: variadic constructor " + ft.String() + " is not supported")
	}
	out := ft.Out(0)
	deps := make([]reflect.Type, ft.NumIn())
	for i := range deps {
		deps[i] = ft.In(i)
	}
	c := Ctor[any]{
		deps: deps,
		bind: func(typ reflect.Type, d []dep) buildFunc[any] {
			getters := make([]getter[any], len(d))
			for i := range d {
				getters[i] = getterFor[any](d[i])
			}
			return func(s *Scope) (any, func(), error) {
				args := make([]reflect.Value, len(getters))
				for i, g := range getters {
					v, err := g.get(s)
					if err != nil {
						return nil, nil, err
					}
					if v == nil {
						args[i] = reflect.Zero(deps[i])
					} else {
						args[i] = reflect.ValueOf(v)
					}
				}
				res := fv.Call(args)
				errV := res[len(res)-1]
				if !errV.IsNil() {
					return nil, nil, buildErr(typ, errV.Interface().(error))
				}
				var cl func()
				if hasCleanup {
					cl, _ = res[1].Interface().(func())
				}
				return res[0].Interface(), cl, nil
			}
		},
	}
	return &provider[any]{meta: meta{typ: out, lt: lt, deps: deps, site: site}, ctor: c}
}

func newProvider[T any](lt Lifetime, c Ctor[T], site string) providerI {
	return &provider[T]{
		meta: meta{typ: reflect.TypeFor[T](), lt: lt, deps: c.deps, site: site, err: c.err},
		ctor: c,
	}
}

func newValueProvider[T any](v T, site string) providerI {
	p := &provider[T]{meta: meta{typ: reflect.TypeFor[T](), lt: Singleton, site: site, value: true}}
	p.val = v
	p.done.Store(true)
	return p
}

// callerSite returns file:line of the user code that called the exported
// registration function.
func callerSite() string {
	_, file, line, ok := runtime.Caller(2)
	if !ok {
		return "unknown"
	}
	return filepath.Base(file) + ":" + strconv.Itoa(line)
}
