package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/graftgo/graft/internal/helpcheck"
)

// TestFlagsComeFromTheConfig: every flag of the example is a config key's
// (file key, env name, flag), --help lists each with its default and
// its env name, and docs/config.md lists them all (issue 13, items 5, 6
// and 7).
func TestFlagsComeFromTheConfig(t *testing.T) {
	app := newApp()
	if err := app.ParseFlags([]string{}); err != nil {
		t.Fatal(err)
	}
	var help bytes.Buffer
	fs := app.Flags()
	fs.SetOutput(&help)
	fs.Usage() // what --help prints
	for _, p := range helpcheck.Problems(fs, help.String()) {
		t.Error(p)
	}
	if help.Len() == 0 {
		t.Fatal("--help printed nothing")
	}
	// docs/config.md lists every key and env name, the example's own
	// sections too.
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range helpcheck.DocProblems(string(doc), app.ConfigLoader().Keys(), help.String()) {
		t.Error(p)
	}
}
