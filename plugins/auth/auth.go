package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"reflect"

	"github.com/graftgo/graft"
)

// findField returns the endpoint's plugin field of type T (by tag when tag
// is not empty), or nil.
func findField[T any](sig *graft.Signature, tag string) *graft.PluginFieldRef[T] {
	if tag != "" {
		return graft.PluginFieldTagged[T](sig, tag)
	}
	return graft.PluginField[T](sig)
}

// unauthorizedReturn is the 401 outcome the plugins add to the signature.
func unauthorizedReturn(desc string) graft.Return {
	return graft.Return{
		Status: http.StatusUnauthorized, Type: reflect.TypeFor[graft.Problem](),
		MediaType: "application/problem+json", Encoder: "problem", Description: desc,
	}
}

func unauthorized(challenge, detail string) error {
	return &graft.HTTPError{Status: http.StatusUnauthorized, Detail: detail,
		Header: http.Header{"Www-Authenticate": {challenge}}}
}

// digest is a fixed-length stand-in for a secret, so that comparing two
// never depends on their lengths.
type digest = [sha256.Size]byte

func digestOf(s string) digest { return sha256.Sum256([]byte(s)) }

// match returns the index of the entry whose digests equal want, or -1. It
// looks at every entry whatever it finds (no early exit) and compares in
// constant time.
func match(n int, eq func(i int) int) int {
	found := -1
	for i := range n {
		hit := eq(i) // 1 or 0
		found = subtle.ConstantTimeSelect(hit, i, found)
	}
	return found
}

func eqDigest(a, b *digest) int { return subtle.ConstantTimeCompare(a[:], b[:]) }

func quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := range len(s) {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}
