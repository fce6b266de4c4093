package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft/internal/fdlimit"
)

func collectMeta(benchDir string, o options) meta {
	m := meta{
		Date:       time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Go:         runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:       runtime.NumCPU(),
		CPU:        cpuModel(),
		LoadBefore: loadAvg(),
		Rounds:     o.rounds,
		Quick:      o.quick,
		Versions:   map[string]string{},
	}
	if out, err := command(benchDir, "go", "env", "GOVERSION"); err == nil {
		m.Go = strings.TrimSpace(out)
	}
	if out, err := command(benchDir, "git", "describe", "--always", "--dirty"); err == nil {
		m.Commit = strings.TrimSpace(out)
	}
	for _, mod := range []string{
		"github.com/gin-gonic/gin", "github.com/labstack/echo/v4", "github.com/go-chi/chi/v5",
		"github.com/julienschmidt/httprouter", "github.com/danielgtaylor/huma/v2", "github.com/gofiber/fiber/v3",
		"github.com/valyala/fasthttp", "github.com/lxzan/gws", "github.com/gorilla/websocket", "github.com/coder/websocket",
	} {
		if out, err := command(benchDir, "go", "list", "-m", "-f", "{{.Version}}", mod); err == nil {
			m.Versions[mod] = strings.TrimSpace(out)
		}
	}
	return m
}

func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	return out.String(), err
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// noFileLimit raises this process's soft descriptor limit to the hard one
// (child processes inherit it) and returns it (1024 when it cannot be read).
func noFileLimit() uint64 {
	if n := fdlimit.RaiseToHard(); n > 0 {
		return n
	}
	return 1024
}

// noFileTarget is the idle-connection count: the limit less a margin for
// the process's own descriptors, rounded down to 500, at most 100,000.
func noFileTarget() int {
	n := int(noFileLimit()) - 300
	n = min(n, 100000)
	return max(n/500*500, 0)
}

// vmRSS reads a process's resident set size in KiB.
func vmRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.ParseFloat(f[0], 64)
			}
		}
	}
	return 0, errors.New("no VmRSS line")
}
