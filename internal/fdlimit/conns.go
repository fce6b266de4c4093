package fdlimit

// Margin is the open files a test or benchmark process needs besides its
// connections: the listener, the runtime's own, the test's.
const Margin = 200

// ForConns is what conns loopback connections take in one process that
// holds both of their ends, with the Margin.
func ForConns(conns int) uint64 { return uint64(2*conns + Margin) }
