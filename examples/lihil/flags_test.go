package main

import (
	"bytes"
	"testing"

	"github.com/graftgo/graft/internal/helpcheck"
)

// TestFlagsComeFromTheConfig: every flag of the example is a config key's
// (file key, env name, flag), and --help lists each with its default and
// its env name (issue 13, items 5 and 6).
func TestFlagsComeFromTheConfig(t *testing.T) {
	app, err := newApp([]string{})
	if err != nil {
		t.Fatal(err)
	}
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
}
