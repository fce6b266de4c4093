package cache

import (
	"errors"

	"github.com/graftgo/graft"
)

// UserKey keys answers by an identity bound into the endpoint's input;
// make one with User.
type UserKey interface {
	userFor(sig *graft.Signature) (func(in any) string, error)
}

type userKey[T any] struct{ id func(T) string }

// User keys answers by the identity of type T that an auth plugin binds
// into the endpoint's input (a plugin field of type T, e.g. the
// *jwt.Claims or the principal of plugins/auth): id returns the caller's
// stable id (the subject). The key is looked up after binding, so the
// auth plugin has checked the credential on every request, hits included;
// a hit then skips only the handler. id gets the field's value as bound:
// for an optional credential that was not sent, the zero value (a nil
// pointer), for which it returns the id those callers share (""). An id
// with a NUL byte is not cached. On endpoints whose input has no field of
// type T, the answers are shared by everyone (keyed by URL).
//
//	cache.Policy{User: cache.User(func(p *Principal) string { return p.Subject })}
func User[T any](id func(T) string) UserKey { return userKey[T]{id} }

func (k userKey[T]) userFor(sig *graft.Signature) (func(in any) string, error) {
	if k.id == nil {
		return nil, errors.New("Policy.User: cache.User(nil); pass the function that returns the caller's id")
	}
	f := graft.ReadPluginField[T](sig)
	if f == nil {
		return nil, nil
	}
	id := k.id
	return func(in any) string { return id(f.Get(in)) }, nil
}
