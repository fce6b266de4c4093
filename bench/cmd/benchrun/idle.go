package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// idleRSS starts `wsidle -server srv`, measures its RSS after a GC, dials
// n idle connections from a second `wsidle -dial` process, waits for the
// server to report them open, forces a GC in the server again and returns
// (RSS after - RSS before) / n in KiB.
func idleRSS(bin, srv string, n int) (float64, error) {
	server := exec.Command(bin, "-server", srv, "-addr", "127.0.0.1:0")
	sout, err := server.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := server.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = server.Process.Signal(syscall.SIGTERM)
		_ = server.Wait()
	}()
	lines := lineChan(sout)
	addr, err := expect(lines, "listening on ", 30*time.Second)
	if err != nil {
		return 0, fmt.Errorf("server: %v", err)
	}
	gc := func() (float64, error) {
		if err := server.Process.Signal(syscall.SIGUSR1); err != nil {
			return 0, err
		}
		if _, err := expect(lines, "gc done", 30*time.Second); err != nil {
			return 0, fmt.Errorf("server gc: %v", err)
		}
		return vmRSS(server.Process.Pid)
	}
	before, err := gc()
	if err != nil {
		return 0, err
	}
	client := exec.Command(bin, "-dial", addr, "-n", fmt.Sprint(n))
	cout, err := client.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := client.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = client.Process.Signal(syscall.SIGTERM)
		_ = client.Wait()
	}()
	if _, err := expect(lineChan(cout), "dialed ", 5*time.Minute); err != nil {
		return 0, fmt.Errorf("client: %v", err)
	}
	if _, err := expect(lines, fmt.Sprintf("open %d", n), time.Minute); err != nil {
		return 0, fmt.Errorf("server: %v", err)
	}
	time.Sleep(time.Second)
	after, err := gc()
	if err != nil {
		return 0, err
	}
	return (after - before) / float64(n), nil
}

func lineChan(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// expect waits for a line starting with prefix and returns the rest.
func expect(lines <-chan string, prefix string, d time.Duration) (string, error) {
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return "", fmt.Errorf("exited before printing %q", prefix)
			}
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest, nil
			}
		case <-deadline:
			return "", errors.New("no " + fmt.Sprintf("%q", prefix) + " line within " + d.String())
		}
	}
}
