package config

import (
	"bytes"
	"regexp"
	"testing"
)

// sourceComment is the "# source" comment PrintConfig puts after a value.
var sourceComment = regexp.MustCompile(`(?m) # (default|[a-z]+\.toml:\d+)$`)

// FuzzLoadTOML feeds arbitrary documents to the file reader: it must never
// panic, and a document it accepts must print (--print-config) to TOML that
// loads back and prints the same values.
func FuzzLoadTOML(f *testing.F) {
	for _, seed := range []string{
		"port = 1000\nidle-timeout = \"5s\"\norigins = [\"a\", \"b\"]\n[ws]\nmax-size = 10\nbroker = { url = \"nats://x\" }\n",
		"ratio = inf\nworkers = 0xff\n[ws.broker]\noptional = true\n",
		"ratio = -nan\nhost = \"\\u0000\\t\\\"\"\n",
		"ws.broker.url = 'lit'\nratio = 1_000.5e-3\n",
		"[[ws]]\n", "port = \"x\"", "= 1", "[ws]\n[ws]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, _, _ := setup(t)
		if err := l.loadTOML("a.toml", data); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		var first bytes.Buffer
		if err := l.PrintConfig(&first); err != nil {
			t.Fatal(err)
		}
		l2, _, _ := setup(t)
		if err := l2.loadTOML("b.toml", first.Bytes()); err != nil {
			t.Fatalf("printed config does not load back: %v\n%s", err, first.String())
		}
		var second bytes.Buffer
		if err := l2.PrintConfig(&second); err != nil {
			t.Fatal(err)
		}
		a := sourceComment.ReplaceAllString(first.String(), "")
		b := sourceComment.ReplaceAllString(second.String(), "")
		if a != b {
			t.Fatalf("round trip changed the config:\n%s\n---\n%s", a, b)
		}
	})
}
