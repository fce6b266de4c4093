// Package fdlimit raises the process's limit on open files for tests and
// benchmarks that hold many loopback connections, and says when it cannot:
// with too few descriptors a server's accept fails, and a client's
// handshake waits for an answer that never comes.
package fdlimit
