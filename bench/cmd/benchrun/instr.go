package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// instrServers are the servers of the instructions step, in the order
// they run.
var instrServers = []string{"graft", "nethttp", "fiber"}

// Requests of the instructions step: per measurement, and per work before
// the first (connections, pools and the heap settle).
const (
	instrRequests = 5000
	instrWarmup   = 2000
	instrConns    = 4
	instrReps     = 2
)

// instructions counts the user-space instructions each end-to-end server
// process executes per request, under valgrind's callgrind: the one
// end-to-end figure that the other tenants' load does not move, where
// wrk's req/s moves by ±10 % between two runs of the same server. Each
// server (cmd/plaintext, GOMAXPROCS=1 as when pinned to one core) runs
// under callgrind; per work, after a warm-up, its counters are zeroed,
// instrRequests requests are served over instrConns keep-alive
// connections and the counters are dumped, instrReps times. The count
// covers everything the process runs for those requests (net/http or
// fasthttp, the framework, the runtime and its garbage collector), not
// the kernel's share (the syscalls, the same for the net/http servers).
func (r *runner) instructions() error {
	if r.opts.quick {
		r.skip("instructions per request (callgrind): not run with --quick (it takes about a minute)")
		return nil
	}
	vg, err := exec.LookPath("valgrind")
	if err == nil {
		_, err = exec.LookPath("callgrind_control")
	}
	if err != nil {
		r.skip("instructions per request (callgrind): valgrind is not installed; bench/run installs it with apt-get when it runs as root (apt-get install -y valgrind)")
		return nil
	}
	bin := filepath.Join(r.tmp, "plaintext")
	if out, err := r.goBuild(bin, "./cmd/plaintext"); err != nil {
		return fmt.Errorf("building cmd/plaintext: %v\n%s", err, out)
	}
	dir := filepath.Join(r.tmp, "callgrind")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, srv := range instrServers {
		r.logf("instructions: %s under callgrind", srv)
		if err := r.instrServer(vg, bin, dir, srv); err != nil {
			return fmt.Errorf("instructions of %s: %v", srv, err)
		}
	}
	return nil
}

// instrServer measures one server: one callgrind process, every work and
// repetition in it.
func (r *runner) instrServer(vg, bin, dir, srv string) error {
	out := filepath.Join(dir, srv+".cg")
	logPath := filepath.Join(dir, srv+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	// Valgrind runs the Go runtime's threads one at a time; asynchronous
	// preemption's signals are what it cannot follow.
	cmd := exec.Command(vg, "--tool=callgrind", "--callgrind-out-file="+out, bin, "-server", srv, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Once the figures are dumped nothing is left to keep: kill it (a
	// signal the program would handle is one valgrind may not follow).
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	url, err := listeningURL(stdout, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("%v (valgrind's log: %s)", err, logPath)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	client := &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: instrConns, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	dumps := 0
	for _, w := range []struct{ path, name string }{{"/", "plaintext"}, {"/json", "json"}} {
		if err := fixedLoad(client, url+w.path, instrWarmup, instrConns); err != nil {
			return err
		}
		for rep := 1; rep <= instrReps; rep++ {
			if err := callgrindControl("-z", pid); err != nil {
				return err
			}
			if err := fixedLoad(client, url+w.path, instrRequests, instrConns); err != nil {
				return err
			}
			if err := callgrindControl("-d", pid); err != nil {
				return err
			}
			dumps++
			n, err := dumpTotal(fmt.Sprintf("%s.%d", out, dumps), time.Minute)
			if err != nil {
				return err
			}
			r.appendRaw("instr", fmt.Sprintf("# %s %s rep %d: %d instructions for %d requests\n", srv, w.path, rep, n, instrRequests))
			r.res.Samples = append(r.res.Samples, sample{Name: "E2EInstr/" + w.name + "/" + srv, Round: rep,
				Metrics: map[string]float64{"instr/req": float64(n) / instrRequests}})
		}
	}
	return nil
}

// listeningURL waits for the "listening on URL" line of a server's
// output and returns the URL; the rest of the output is drained.
func listeningURL(stdout io.Reader, wait time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case found <- u:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u, nil
	case <-time.After(wait):
		return "", fmt.Errorf("no \"listening on\" line within %v", wait)
	}
}

// fixedLoad sends n GET requests to url over conns keep-alive connections
// and checks that each is answered 200.
func fixedLoad(client *http.Client, url string, n, conns int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	for c := range conns {
		todo := n / conns
		if c < n%conns {
			todo++
		}
		wg.Go(func() {
			for range todo {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET %s: %s", url, resp.Status)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// callgrindControl sends a command (-z: zero the counters, -d: dump them)
// to the callgrind process pid and waits for it to be carried out.
func callgrindControl(cmd, pid string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "callgrind_control", cmd, pid).CombinedOutput()
	if err != nil {
		return fmt.Errorf("callgrind_control %s %s: %v\n%s", cmd, pid, err, out)
	}
	return nil
}

var callgrindSummary = regexp.MustCompile(`(?m)^(?:summary|totals):\s+(\d+)`)

// dumpTotal reads the instruction total of a callgrind dump, waiting up
// to wait for the file to be complete.
func dumpTotal(path string, wait time.Duration) (int64, error) {
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if m := callgrindSummary.FindSubmatch(b); m != nil {
				return strconv.ParseInt(string(m[1]), 10, 64)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no instruction total in %s within %v", path, wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
