package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The README's run command: main with embedded defaults, nothing to set
// up, in a fresh directory: it serves, makes chat.db there, and on SIGTERM
// exits 0 within the shutdown deadline.
func TestMainWithDefaults(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHAT_MAIN_ARGS=--host\n127.0.0.1\n--port\n"+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when the process is gone; waitErr is Wait's error.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "the chat to answer /healthz", func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	n := &node{addr: "127.0.0.1:" + strconv.Itoa(port)}
	tok := signup(t, n, "alice")
	c := connect(t, n, "alice", tok)
	c.send(t, JoinIn{Type: "join", Room: "lobby"})
	c.expect(t, "joined")
	if _, err := os.Stat(filepath.Join(dir, "chat.db")); err != nil {
		t.Errorf("no chat.db in the working directory: %v", err)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(t); code != 1001 {
		t.Errorf("on SIGTERM the client got %d, want 1001", code)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("exit: %v, want 0", waitErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not exit within 15s of SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}
