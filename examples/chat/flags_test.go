package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/helpcheck"
)

// TestFlags: the contract's flags exist, every flag is a config key's,
// --help lists each with its default and env name, and docs/config.md
// lists them all.
func TestFlags(t *testing.T) {
	app := newApp(graft.Config{})
	if err := app.ParseFlags([]string{}); err != nil {
		t.Fatal(err)
	}
	var help bytes.Buffer
	fs := app.Flags()
	fs.SetOutput(&help)
	fs.Usage()
	for _, p := range helpcheck.Problems(fs, help.String()) {
		t.Error(p)
	}
	for _, f := range []string{"db", "port", "host", "nats", "redis", "req-res-factory-maxitems", "ws-factory-maxitems", "config", "jwt-key"} {
		if fs.Lookup(f) == nil {
			t.Errorf("no --%s flag", f)
		}
	}
	for _, env := range []string{"GRAFT_CHAT_DB", "GRAFT_CHAT_NATS", "GRAFT_CHAT_REDIS", "GRAFT_CHAT_JWT_KEY", "GRAFT_PORT"} {
		if !strings.Contains(help.String(), env) {
			t.Errorf("--help does not name %s", env)
		}
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range helpcheck.DocProblems(string(doc), app.ConfigLoader().Keys(), help.String()) {
		t.Error(p)
	}
}
