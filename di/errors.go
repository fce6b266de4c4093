package di

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Sentinel errors; match them with errors.Is. The concrete errors carry the
// types involved.
var (
	// ErrNoProvider: a needed type has no provider and is not external.
	ErrNoProvider = errors.New("di: no provider")
	// ErrCycle: providers depend on each other in a loop.
	ErrCycle = errors.New("di: dependency cycle")
	// ErrCaptive: a singleton depends (possibly through transients) on a
	// scoped or external value, which would outlive its request.
	ErrCaptive = errors.New("di: captive dependency")
	// ErrDuplicate: a type was provided twice without Override.
	ErrDuplicate = errors.New("di: duplicate provider")
	// ErrClosed: the graph was closed.
	ErrClosed = errors.New("di: graph closed")
	// ErrScopeClosed: a scope was used after Close.
	ErrScopeClosed = errors.New("di: scope used after Close")
	// ErrNoSource: an external value was needed but the scope has neither a
	// source nor a value set for it.
	ErrNoSource = errors.New("di: scope has no source for external values")
	// ErrRequestBound: Get was asked for a value that needs a request scope.
	ErrRequestBound = errors.New("di: value is request-bound; resolve it from a Scope")
)

// MissingError reports a dependency with no provider (validation error).
type MissingError struct {
	Type     reflect.Type // the type nobody provides
	NeededBy reflect.Type // the provider that needs it; nil when asked directly
}

// Error implements error.
func (e *MissingError) Error() string {
	var b strings.Builder
	b.WriteString("di: no provider for ")
	b.WriteString(typeName(e.Type))
	if e.NeededBy != nil {
		b.WriteString(" (needed by ")
		b.WriteString(typeName(e.NeededBy))
		b.WriteString(")")
	}
	b.WriteString("; register one with di.Provide or di.Value, or declare it external with Graph.External")
	return b.String()
}

// Is reports whether target is ErrNoProvider.
func (e *MissingError) Is(target error) bool { return target == ErrNoProvider }

// CycleError reports a dependency cycle (validation error). Path starts and
// ends with the same type.
type CycleError struct {
	Path []reflect.Type
}

// Error implements error.
func (e *CycleError) Error() string { return "di: dependency cycle: " + pathString(e.Path) }

// Is reports whether target is ErrCycle.
func (e *CycleError) Is(target error) bool { return target == ErrCycle }

// CaptiveError reports a singleton that depends on a request-bound value
// (validation error). Path runs from the singleton to the scoped or external
// type, through any transients in between.
type CaptiveError struct {
	Path     []reflect.Type
	External bool // the last type of Path is external rather than scoped
}

// Error implements error.
func (e *CaptiveError) Error() string {
	first, last := e.Path[0], e.Path[len(e.Path)-1]
	kind := "scoped"
	if e.External {
		kind = "request-bound external"
	}
	return fmt.Sprintf("di: captive dependency: singleton %s depends on %s %s (%s); "+
		"a singleton outlives every request: make %s scoped or transient, or provide %s as a singleton",
		typeName(first), kind, typeName(last), pathString(e.Path), typeName(first), typeName(last))
}

// Is reports whether target is ErrCaptive.
func (e *CaptiveError) Is(target error) bool { return target == ErrCaptive }

// DuplicateError reports a type provided twice (validation error).
type DuplicateError struct {
	Type  reflect.Type
	Sites [2]string // file:line of both registrations, when known
}

// Error implements error.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("di: duplicate provider for %s (registered at %s and at %s); use di.Override to replace a provider",
		typeName(e.Type), e.Sites[0], e.Sites[1])
}

// Is reports whether target is ErrDuplicate.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// RegistrationError reports an invalid registration (nil constructor, bad
// lifetime, a ProvideFunc argument that is not a constructor). It is
// returned by Build.
type RegistrationError struct {
	Site string // file:line of the registration, when known
	Msg  string
}

// Error implements error.
func (e *RegistrationError) Error() string {
	if e.Site == "" {
		return "di: " + e.Msg
	}
	return "di: " + e.Msg + " (at " + e.Site + ")"
}

// BuildError wraps an error returned (or a panic raised, as *PanicError) by
// the provider of Type while it was being built.
type BuildError struct {
	Type reflect.Type
	Err  error
}

// Error implements error.
func (e *BuildError) Error() string { return "di: building " + typeName(e.Type) + ": " + e.Err.Error() }

// Unwrap returns the provider's error.
func (e *BuildError) Unwrap() error { return e.Err }

// PanicError is a recovered panic from a provider or a cleanup.
type PanicError struct {
	Value any
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// CleanupError reports a cleanup that panicked; the other cleanups still ran.
type CleanupError struct {
	Type reflect.Type // the type whose cleanup failed
	Err  error        // a *PanicError
}

// Error implements error.
func (e *CleanupError) Error() string {
	return "di: cleanup of " + typeName(e.Type) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *CleanupError) Unwrap() error { return e.Err }

// ExternalError reports a failure to obtain an external value from a scope.
type ExternalError struct {
	Type reflect.Type
	Err  error
}

// Error implements error.
func (e *ExternalError) Error() string {
	return "di: external " + typeName(e.Type) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ExternalError) Unwrap() error { return e.Err }

func typeName(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	return t.String()
}

func pathString(p []reflect.Type) string {
	var b strings.Builder
	for i, t := range p {
		if i > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(typeName(t))
	}
	return b.String()
}

func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
