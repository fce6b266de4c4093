package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	osvStdlib = `{"schema_version":"1.3.1","id":"GO-2024-2687","modified":"0001-01-01T00:00:00Z","summary":"HTTP/2 CONTINUATION flood in net/http",
"affected":[{"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.21.9"},{"introduced":"1.22.0-0"},{"fixed":"1.22.2"}]}]},
{"package":{"name":"golang.org/x/net","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.23.0"}]}]}]}`
	osvReintroduced = `{"schema_version":"1.3.1","id":"GO-2023-0001","modified":"2023-05-01T10:00:00Z","summary":"s",
"affected":[{"package":{"name":"golang.org/x/net","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.7.0"},{"introduced":"0.9.0"}]}]}]}`
)

func writeOSV(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuild(t *testing.T) {
	src := writeOSV(t, map[string]string{"GO-2024-2687.json": osvStdlib, "GO-2023-0001.json": osvReintroduced, "README.md": "not an entry"})
	out := filepath.Join(t.TempDir(), "db")
	snap := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	var log strings.Builder
	if err := run([]string{"-osv", src, "-out", out, "-modified", snap.Format(time.RFC3339)}, &log); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); got != "vulndb: 2 entries, 2 modules, modified 2026-11-05T23:49:57Z, in "+out+"\n" {
		t.Errorf("run printed %q", got)
	}
	b, err := os.ReadFile(filepath.Join(out, "index", "db.json"))
	if err != nil || string(b) != `{"modified":"2026-11-05T23:49:57Z"}` {
		t.Errorf("index/db.json = %s (%v)", b, err)
	}
	b, err = os.ReadFile(filepath.Join(out, "index", "modules.json"))
	want := `[{"path":"golang.org/x/net","vulns":[` +
		`{"id":"GO-2023-0001","modified":"2023-05-01T10:00:00Z"},` + // reintroduced: no fix known
		`{"id":"GO-2024-2687","modified":"2026-11-05T23:49:57Z","fixed":"0.23.0"}]},` +
		`{"path":"stdlib","vulns":[{"id":"GO-2024-2687","modified":"2026-11-05T23:49:57Z","fixed":"1.22.2"}]}]`
	if err != nil || string(b) != want {
		t.Errorf("index/modules.json =\n%s (%v), want\n%s", b, err, want)
	}
	// The entry is copied whole, with the zero modified time replaced.
	b, err = os.ReadFile(filepath.Join(out, "ID", "GO-2024-2687.json"))
	var e map[string]any
	if err != nil || json.Unmarshal(b, &e) != nil || e["modified"] != "2026-11-05T23:49:57Z" ||
		e["summary"] != "HTTP/2 CONTINUATION flood in net/http" || len(e["affected"].([]any)) != 2 {
		t.Errorf("ID/GO-2024-2687.json = %s (%v)", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "ID", "GO-2023-0001.json")); err != nil || string(b) != osvReintroduced {
		t.Errorf("an entry with a modified time is not copied unchanged: %s (%v)", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "README.json")); err == nil {
		t.Error("a non-JSON file became an entry")
	}
}

func TestBuildErrors(t *testing.T) {
	full := t.TempDir()
	_ = os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, tc := range []struct {
		name  string
		files map[string]string
		out   string
		args  []string
		want  string
	}{
		{"no entries", map[string]string{}, "", nil, "no OSV entries"},
		{"misnamed", map[string]string{"GO-1.json": osvStdlib}, "", nil, "must be named GO-2024-2687.json"},
		{"not OSV", map[string]string{"GO-1.json": `[1]`}, "", nil, "not an OSV entry"},
		{"out not empty", map[string]string{"GO-2024-2687.json": osvStdlib}, full, nil, "is not empty"},
		{"bad time", map[string]string{"GO-2024-2687.json": osvStdlib}, "", []string{"-modified", "yesterday"}, "want an RFC 3339 time"},
	} {
		out := tc.out
		if out == "" {
			out = filepath.Join(t.TempDir(), "db")
		}
		args := append([]string{"-osv", writeOSV(t, tc.files), "-out", out}, tc.args...)
		if err := run(args, new(strings.Builder)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if err := run(nil, new(strings.Builder)); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no flags: %v", err)
	}
}

func TestSemver(t *testing.T) {
	order := []string{"0.0.1", "0.9.0", "0.10.0", "1.0.0-0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.21.9", "1.22.0-0", "1.22.2", "1.100.0"}
	for i := range order {
		for j := range order {
			if got, want := semverLess(order[i], order[j]), i < j; got != want {
				t.Errorf("semverLess(%q, %q) = %v", order[i], order[j], got)
			}
		}
	}
	if semverCompare("1.2.3+build", "1.2.3") != 0 || !semverLess("", "0.0.1") || semverLess("0.0.1", "") {
		t.Error("build metadata or the empty version compare wrongly")
	}
}

func TestLatestFix(t *testing.T) {
	ev := func(kv ...string) osvRange {
		r := osvRange{Type: "SEMVER"}
		for i := 0; i < len(kv); i += 2 {
			e := struct {
				Introduced string `json:"introduced,omitempty"`
				Fixed      string `json:"fixed,omitempty"`
			}{}
			if kv[i] == "i" {
				e.Introduced = kv[i+1]
			} else {
				e.Fixed = kv[i+1]
			}
			r.Events = append(r.Events, e)
		}
		return r
	}
	for _, tc := range []struct {
		ranges []osvRange
		want   string
	}{
		{[]osvRange{ev("i", "0", "f", "1.2.0")}, "1.2.0"},
		{[]osvRange{ev("i", "0", "f", "1.2.0", "i", "1.3.0", "f", "1.3.4")}, "1.3.4"},
		{[]osvRange{ev("i", "0", "f", "1.2.0", "i", "1.3.0")}, ""},
		{[]osvRange{ev("i", "0")}, ""},
		{[]osvRange{{Type: "GIT"}}, ""},
	} {
		if got := latestFix(tc.ranges); got != tc.want {
			t.Errorf("latestFix(%+v) = %q, want %q", tc.ranges, got, tc.want)
		}
	}
}

// The database of one entry: its index lists the module with the newest
// fix, as govulncheck's client reads it.
func Example() {
	src, _ := os.MkdirTemp("", "osv")
	defer os.RemoveAll(src)
	_ = os.WriteFile(filepath.Join(src, "GO-2024-2687.json"), []byte(osvStdlib), 0o644)
	out := filepath.Join(src, "db")
	if err := run([]string{"-osv", src, "-out", out, "-modified", "2026-11-05T23:49:57Z"}, io.Discard); err != nil {
		fmt.Println(err)
		return
	}
	db, _ := os.ReadFile(filepath.Join(out, "index", "db.json"))
	modules, _ := os.ReadFile(filepath.Join(out, "index", "modules.json"))
	fmt.Printf("%s\n%s\n", db, modules)
	// Output:
	// {"modified":"2026-11-05T23:49:57Z"}
	// [{"path":"golang.org/x/net","vulns":[{"id":"GO-2024-2687","modified":"2026-11-05T23:49:57Z","fixed":"0.23.0"}]},{"path":"stdlib","vulns":[{"id":"GO-2024-2687","modified":"2026-11-05T23:49:57Z","fixed":"1.22.2"}]}]
}
