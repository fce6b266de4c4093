//go:build !unix

package graft

import (
	"net"
	"syscall"
)

// rawConnOf returns nil: on this platform every frame goes through the
// writer goroutine.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (s *Socket) rawWriteFD(uintptr) bool { return true }
