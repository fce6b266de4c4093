package di_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Types used across the tests. Their names show in error messages as
// *di_test.A and so on.
type (
	A struct{ B *B }
	B struct{ C *C }
	C struct{ n int }
)

func newA(b *B) (*A, error) { return &A{B: b}, nil }
func newB(c *C) (*B, error) { return &B{C: c}, nil }
func newC() (*C, error)     { return &C{}, nil }
