package config

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad is one start-up's loading: a file with every section, two
// variables and two flags over the test config (11 keys).
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.toml")
	doc := "host = \"h\"\nport = 1000\nidle-timeout = \"5s\"\norigins = [\"a\", \"b\"]\n[ws]\nmax-size = 10\n[ws.broker]\nurl = \"nats://x\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l, _, fs := setup(b, "GRAFT_RATIO=0.5", "GRAFT_DEBUG=true")
		if err := l.Load(fs, []string{"--config", path, "--port=2000", "--ws.max-size=3"}); err != nil {
			b.Fatal(err)
		}
	}
}
