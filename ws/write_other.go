//go:build !unix

package ws

import (
	"net"
	"syscall"
)

// rawConnOf returns nil: on this platform every frame goes through the
// writer goroutine.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (s *Socket) rawWriteFD(uintptr) bool { return true }
