package graftest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// update is the -update flag: rewrite golden files from what the tests
// produced.
var update = flag.Bool("update", false, "rewrite the golden files under testdata (graftest)")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// Golden compares got with the file testdata/NAME of the test's package,
// failing the test with the first differing line; with -update it writes
// got there instead.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("graftest: %v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("graftest: %s differs from what the test produced (go test -update rewrites it; review the diff):\n%s", path, FirstDiff(want, got))
	}
}

// GoldenJSON compares v, as indented JSON with a final newline, with the
// golden file testdata/NAME.
func GoldenJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("graftest: encoding %T for %s: %v", v, name, err)
	}
	Golden(t, name, append(b, '\n'))
}

// GoldenText compares s, with a final newline added when missing, with
// the golden file testdata/NAME (setup error messages, --help output).
func GoldenText(t testing.TB, name, s string) {
	t.Helper()
	if len(s) == 0 || s[len(s)-1] != '\n' {
		s += "\n"
	}
	Golden(t, name, []byte(s))
}

// FirstDiff describes the first line where want and got differ.
func FirstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + strconv.Itoa(i+1) + ":\n- " + string(w) + "\n+ " + string(g)
		}
	}
	return ""
}
