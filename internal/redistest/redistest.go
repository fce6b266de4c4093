package redistest

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server process listening on 127.0.0.1:Port.
type Server struct {
	// Port is the server's loopback port.
	Port int
	cmd  *exec.Cmd
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// FreePort returns a loopback port nothing listens on now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts redis-server on a free port with persistence off.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartOn(tb, 0)
}

// StartOn starts redis-server on 127.0.0.1:port (0: a free port), with
// persistence off unless args say otherwise (redis-server takes the last
// value of an option given twice: "--appendonly", "yes" turns it on), and
// kills it when the test ends. It returns once the server answers PING,
// and fails the test after 10 s.
func StartOn(tb testing.TB, port int, args ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal("redis-server not found in PATH; these tests need a real Redis: apt-get install -y redis-server")
	}
	if port == 0 {
		port = FreePort(tb)
	}
	s := &Server{Port: port}
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
		"--loglevel", "warning", "--save", "", "--appendonly", "no"}, args...)
	s.cmd = exec.Command(bin, all...)
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	for deadline := time.Now().Add(10 * time.Second); !Ping(s.Addr()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on port %d did not answer PING within 10s", port)
		}
	}
	return s
}

// Kill stops the server at once, as a crash would; a second call does
// nothing.
func (s *Server) Kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Ping reports whether a Redis server at addr answers PING within a second.
func Ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}
