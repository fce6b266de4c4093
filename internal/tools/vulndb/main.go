package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vulndb", flag.ContinueOnError)
	osvDir := fs.String("osv", "", "directory of OSV entries (<ID>.json)")
	outDir := fs.String("out", "", "directory to write the database to (created; must be empty or absent)")
	modified := fs.String("modified", "", "RFC 3339 time replacing a zero modified time (default: the newest file's modification time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *osvDir == "" || *outDir == "" || fs.NArg() > 0 {
		return errors.New("usage: vulndb -osv DIR -out DB [-modified TIME]")
	}
	var fallback time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			return fmt.Errorf("-modified %q: want an RFC 3339 time: %w", *modified, err)
		}
		fallback = t.UTC()
	}
	st, err := build(*osvDir, *outDir, fallback)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "vulndb: %d entries, %d modules, modified %s, in %s\n", st.entries, st.modules, st.modified.Format(time.RFC3339), *outDir)
	return nil
}

// entry is the part of an OSV entry the index needs; the entry itself is
// copied whole (only a zero modified time is replaced).
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type stats struct {
	entries, modules int
	modified         time.Time
}

// build writes the database of the entries in osvDir to outDir.
func build(osvDir, outDir string, fallback time.Time) (stats, error) {
	var st stats
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return st, err
	}
	if len(files) == 0 {
		return st, fmt.Errorf("no OSV entries (*.json) in %s", osvDir)
	}
	if fallback.IsZero() {
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.ModTime().After(fallback) {
				fallback = fi.ModTime().UTC().Truncate(time.Second)
			}
		}
	}
	if ents, err := os.ReadDir(outDir); err == nil && len(ents) > 0 {
		return st, fmt.Errorf("%s is not empty: remove it or choose another -out", outDir)
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return st, err
		}
	}
	modules := map[string]*moduleMeta{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return st, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return st, fmt.Errorf("%s: not an OSV entry: %w", f, err)
		}
		if e.ID == "" || filepath.Base(f) != e.ID+".json" {
			return st, fmt.Errorf("%s: the file of entry %q must be named %s.json", f, e.ID, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = fallback
			if b, err = setModified(b, fallback); err != nil {
				return st, fmt.Errorf("%s: %w", f, err)
			}
		}
		if err := os.WriteFile(filepath.Join(outDir, "ID", e.ID+".json"), b, 0o644); err != nil {
			return st, err
		}
		if e.Modified.After(st.modified) {
			st.modified = e.Modified
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name, Vulns: []moduleVuln{}}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a.Ranges)})
		}
		st.entries++
	}
	index := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		index = append(index, m)
	}
	slices.SortFunc(index, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })
	st.modules = len(index)
	if err := writeJSON(filepath.Join(outDir, "index", "modules.json"), index); err != nil {
		return st, err
	}
	return st, writeJSON(filepath.Join(outDir, "index", "db.json"), struct {
		Modified time.Time `json:"modified"`
	}{st.modified})
}

// setModified replaces the entry's modified time, keeping every other
// field as it was.
func setModified(b []byte, t time.Time) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	ts, _ := json.Marshal(t)
	m["modified"] = ts
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// latestFix is the newest fixed version of the SEMVER ranges, or "" when a
// later introduction supersedes it (then no version is known to be safe
// from the index alone, and the client reads the entry).
func latestFix(ranges []osvRange) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && semverLess(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && semverLess(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// semverLess reports whether a precedes b in SemVer 2.0.0 order (versions
// without a leading "v", as OSV writes them); "" precedes everything.
func semverLess(a, b string) bool {
	if a == "" || b == "" {
		return a == "" && b != ""
	}
	return semverCompare(a, b) < 0
}

func semverCompare(a, b string) int {
	a, _, _ = strings.Cut(a, "+") // build metadata does not count
	b, _, _ = strings.Cut(b, "+")
	ac, apre, _ := strings.Cut(a, "-")
	bc, bpre, _ := strings.Cut(b, "-")
	an, bn := strings.Split(ac, "."), strings.Split(bc, ".")
	for i := range 3 {
		if c := cmpNum(part(an, i), part(bn, i)); c != 0 {
			return c
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1 // a release follows its pre-releases
	case bpre == "":
		return -1
	}
	ap, bp := strings.Split(apre, "."), strings.Split(bpre, ".")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		_, aerr := strconv.ParseUint(ap[i], 10, 64)
		_, berr := strconv.ParseUint(bp[i], 10, 64)
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmpNum(ap[i], bp[i])
		case aerr == nil:
			c = -1 // numeric identifiers precede alphanumeric ones
		case berr == nil:
			c = 1
		default:
			c = strings.Compare(ap[i], bp[i])
		}
		if c != 0 {
			return c
		}
	}
	return len(ap) - len(bp)
}

func part(p []string, i int) string {
	if i < len(p) {
		return p[i]
	}
	return "0"
}

// cmpNum compares decimal strings of any length.
func cmpNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
