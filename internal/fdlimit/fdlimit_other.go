//go:build !unix

package fdlimit

// Raise cannot read or change a limit on open files here; it returns n.
func Raise(n uint64) uint64 { return n }

// RaiseToHard cannot read a limit on open files here; it returns 0.
func RaiseToHard() uint64 { return 0 }
