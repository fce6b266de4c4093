package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// docCheck checks what one command of the doc comment printed.
type docCheck func(out string) error

func contains(parts ...string) docCheck {
	return func(out string) error {
		for _, p := range parts {
			if !strings.Contains(out, p) {
				return fmt.Errorf("the output lacks %q", p)
			}
		}
		return nil
	}
}

func equals(want string) docCheck {
	return func(out string) error {
		if out != want {
			return fmt.Errorf("the output is %q, want %q", out, want)
		}
		return nil
	}
}

func lacks(part string) docCheck {
	return func(out string) error {
		if strings.Contains(out, part) {
			return fmt.Errorf("the output has %q", part)
		}
		return nil
	}
}

func all(cs ...docCheck) docCheck {
	return func(out string) error {
		for _, c := range cs {
			if err := c(out); err != nil {
				return err
			}
		}
		return nil
	}
}

// bodyOf returns what follows the headers of curl -i output.
func bodyOf(out string) string {
	_, body, _ := strings.Cut(out, "\r\n\r\n")
	return body
}

// docChecks are the expected results of every command in the package doc
// comment, run in order from a new database. A command there without an
// entry here fails the test, so the two cannot drift apart.
var docChecks = map[string]docCheck{
	`curl localhost:8080/home`:                 equals("Home Page"),
	`curl -c jar -b jar localhost:8080/visits`: equals("visits: 1"),
	`curl -i -c jar -b jar -X DELETE localhost:8080/visits`: all(
		contains("HTTP/1.1 204 No Content", "Set-Cookie: visits=; Path=/; Max-Age=0"),
		func(out string) error {
			if b := bodyOf(out); b != "" {
				return fmt.Errorf("a 204 with a body %q", b)
			}
			return nil
		}),
	`curl -H 'Content-Type: application/json' -d '{"text":"hello"}' localhost:8080/notes`: equals(`{"id":1,"text":"hello"}`),
	// Run twice: without --compress, then with it but without --compressed.
	`curl -i localhost:8080/notes`: all(
		contains("HTTP/1.1 200 OK", `Etag: "notes-1-1"`, "\r\n\r\n"+`[{"id":1,"text":"hello"}]`),
		lacks("Content-Encoding")),
	`curl -i -H 'If-None-Match: "notes-1-1"' localhost:8080/notes`: all(contains("HTTP/1.1 304 Not Modified", `Etag: "notes-1-1"`), func(out string) error {
		if b := bodyOf(out); b != "" {
			return fmt.Errorf("a 304 with a body %q", b)
		}
		return nil
	}),
	`curl -i --compressed localhost:8080/notes`: contains("HTTP/1.1 200 OK", "Content-Encoding: gzip", "Vary: Accept-Encoding", "\r\n\r\n"+`[{"id":1,"text":"hello"}]`),
	`curl --compressed localhost:8080/nothing`: func(out string) error {
		var p graft.Problem
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.Status != 404 {
			return fmt.Errorf("not a 404 problem: %q (%v)", out, err)
		}
		return nil
	},
}

var docComment = regexp.MustCompile(`\s+#\s.*$`)

// docLines returns the commands of the package doc comment, without their
// trailing comments.
func docLines(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for line := range strings.SplitSeq(string(src), "\n") {
		if line == "package main" {
			break
		}
		if cmd, ok := strings.CutPrefix(line, "//\t"); ok {
			cmds = append(cmds, docComment.ReplaceAllString(cmd, ""))
		}
	}
	return cmds
}

// TestDocCommands runs the package doc comment's commands as written: each
// go run line as the app with those flags (on a free port instead of 8080,
// in a temporary directory for webpp.db and the curl jar), each curl line
// through sh against it.
func TestDocCommands(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	cmds := docLines(t)
	t.Chdir(t.TempDir())
	if len(cmds) < 8 {
		t.Fatalf("found %d commands in the doc comment", len(cmds))
	}
	var port string
	stop := func() {}
	defer func() { stop() }()
	for _, cmd := range cmds {
		if args, ok := strings.CutPrefix(cmd, "go run ./examples/webpp "); ok {
			stop()
			port, stop = runApp(t, strings.Fields(args))
			continue
		}
		check, ok := docChecks[cmd]
		if !ok {
			t.Errorf("the doc comment's %q has no check in docChecks", cmd)
			continue
		}
		if port == "" {
			t.Fatalf("%q comes before any go run line", cmd)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(cmd, "localhost:8080", "localhost:"+port)).Output()
		cancel()
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
			continue
		}
		if err := check(string(out)); err != nil {
			t.Errorf("%s: %v\n%s", cmd, err, out)
		}
	}
}

// runApp runs the app as main does, with args (--port 8080 becoming a free
// port), and returns its port and a function that stops it.
func runApp(t *testing.T, args []string) (string, func()) {
	t.Helper()
	for i, a := range args {
		if a == "8080" && i > 0 && args[i-1] == "--port" {
			args[i] = "-1"
		}
	}
	app := newApp(graft.Config{})
	if err := app.ParseFlags(args); err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunContext(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for app.Addr() == "" {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("the app with %q stopped at start: %v", args, err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the app with %q was not listening within 20s", args)
		}
	}
	_, port, err := net.SplitHostPort(app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return port, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the app with %q: %v", args, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the app with %q did not stop within 20s", args)
		}
	}
}
