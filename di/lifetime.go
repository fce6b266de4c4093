package di

import "strconv"

// Lifetime says how long a provided value lives and who shares it.
type Lifetime uint8

const (
	// Singleton values are built once per Graph, on first use, and shared by
	// every scope. Their cleanups run at Graph.Close, in reverse creation
	// order. A singleton must not depend on a Scoped or external value.
	Singleton Lifetime = iota + 1
	// Scoped values are built once per Scope (one HTTP request) and shared
	// within it. Their cleanups run at Scope.Close, in reverse creation order.
	Scoped
	// Transient values are built anew on every resolution. Their cleanups run
	// with the scope they were built in (the graph, for a transient built for
	// a singleton).
	Transient
)

// String returns the lifetime's lower-case name ("singleton", "scoped",
// "transient").
func (l Lifetime) String() string {
	switch l {
	case Singleton:
		return "singleton"
	case Scoped:
		return "scoped"
	case Transient:
		return "transient"
	}
	return "Lifetime(" + strconv.Itoa(int(l)) + ")"
}

func (l Lifetime) valid() bool { return l >= Singleton && l <= Transient }
