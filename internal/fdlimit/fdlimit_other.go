//go:build !unix

package fdlimit

// Raise cannot read or change a limit on open files here; it returns n.
func Raise(n uint64) uint64 { return n }

// ForConns is what conns loopback connections take in one process that
// holds both of their ends, with a margin for the listener, the runtime
// and the test itself.
func ForConns(conns int) uint64 { return uint64(2*conns + 200) }
