//go:build unix

package ws

import (
	"net"
	"syscall"
)

// rawConnOf returns the raw connection of nc when graft can write to it
// without blocking (TCP and unix sockets), else nil.
func rawConnOf(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawWriteFD makes one non-blocking write of s.rawBuf; the descriptors of
// Go's network connections are in non-blocking mode. A full socket buffer
// (EAGAIN) is not an error: it wrote 0 bytes.
func (s *Socket) rawWriteFD(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), s.rawBuf)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			n, err = 0, nil
		}
		if n < 0 {
			n = 0
		}
		s.rawN, s.rawErr = n, err
		return true
	}
}
