package graft

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// limitListener accepts at most cap(sem) connections at once
// (Config.MaxConns): Accept waits for a served connection to close before
// it accepts another, so that the connections over the cap wait in the
// kernel's listen backlog, unread, rather than each holding a goroutine
// and buffers.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept waits for a free place, then accepts. After Close it returns the
// listener's error (net.ErrClosed), which net/http's Serve ends on.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, l: l}, nil
}

// Close closes the listener and wakes an Accept waiting for a place.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn gives its place back on the first Close (net/http, TLS and a
// hijacking WebSocket all close the connection they were given).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.sem })
	return err
}

// SyscallConn and CloseWrite pass through to the accepted connection, so
// that code looking for them on a hijacked connection (package ws writes
// to the socket directly, and half-closes it) finds them.
func (c *limitConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("graft: the connection has no file descriptor")
}

// CloseWrite half-closes the connection when it can.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("graft: the connection cannot be half-closed")
}

// ReadFrom passes io.Copy to the accepted connection's own ReadFrom, so
// that net/http still sends files with sendfile(2) (and splices from other
// sockets) under Config.MaxConns: net/http takes that path only when its
// connection is an io.ReaderFrom.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

var _ io.ReaderFrom = (*limitConn)(nil)
