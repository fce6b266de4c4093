package helpcheck

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"testing"

	"github.com/graftgo/graft/config"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type settings struct {
	Port  int    `help:"port" default:"8080"`
	Quiet bool   `flag:"quiet,!loud" help:"say less"`
	Name  string `help:"a name"`
}

// TestProblems: a help text from the config loader has none; a flag an
// extension defines itself is reported, and so is one missing from the
// text.
func TestProblems(t *testing.T) {
	l := config.New("APP")
	if err := l.Add("", &settings{}); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l.DefineFlags(fs)
	var help bytes.Buffer
	l.WriteHelp(&help, fs)
	if p := Problems(fs, help.String()); len(p) != 0 {
		t.Errorf("problems %q in\n%s", p, help.String())
	}
	fs.Bool("plain", false, "a flag that is no config key")
	help.Reset()
	l.WriteHelp(&help, fs)
	fs.Int("hidden", 0, "")
	want := []string{"--plain: no default", "--plain: no env name (not a config key?)", "--hidden: not in --help"}
	if p := Problems(fs, help.String()); !reflect.DeepEqual(p, want) {
		t.Errorf("problems %q, want %q in\n%s", p, want, help.String())
	}
}

// TestDocProblems: a key or env name the page lacks is reported.
func TestDocProblems(t *testing.T) {
	help := "  --port int\n      port (default 8080; env APP_PORT)\n  --quiet\n      say less (default false; env APP_QUIET)\n"
	doc := "| `port` | `--port` | `APP_PORT` |\n"
	want := []string{"key quiet is not in docs/config.md", "env APP_QUIET is not in docs/config.md"}
	if p := DocProblems(doc, []string{"port", "quiet"}, help); !reflect.DeepEqual(p, want) {
		t.Errorf("problems %q, want %q", p, want)
	}
}
