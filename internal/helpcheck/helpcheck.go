// Package helpcheck checks an app's --help text against its flag set, for
// the examples' tests: every flag must be a config key's, listed with its
// default and its env name (issue 13: the examples' flags come from the
// config, and --help lists every flag with its default and env name).
package helpcheck

import (
	"flag"
	"regexp"
	"strings"
)

// Problems returns what is wrong with help, the --help text of fs: a flag
// of fs that help does not list, and an entry (other than --config and
// --print-config) without "(default …" or without "env " (a flag that is
// no config key, e.g. one an extension defined itself, has neither).
func Problems(fs *flag.FlagSet, help string) []string {
	var out []string
	listed := map[string]bool{}
	for _, e := range strings.Split(help, "\n  --")[1:] {
		head, body, _ := strings.Cut(e, "\n")
		for _, n := range strings.Split(head, ", --") {
			n, _, _ = strings.Cut(n, " ")
			n, _, _ = strings.Cut(n, "=")
			listed[n] = true
		}
		if strings.HasPrefix(head, "config ") || head == "print-config" {
			continue
		}
		if !strings.Contains(body, "(default ") {
			out = append(out, "--"+head+": no default")
		}
		if !strings.Contains(body, "env ") {
			out = append(out, "--"+head+": no env name (not a config key?)")
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			out = append(out, "--"+f.Name+": not in --help")
		}
	})
	return out
}

var envName = regexp.MustCompile(`env ([A-Z][A-Z0-9_]*)\)`)

// DocProblems returns the config keys, and the env names --help lists,
// that doc (docs/config.md) does not mention in backquotes: the page
// promises every key.
func DocProblems(doc string, keys []string, help string) []string {
	var out []string
	for _, k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			out = append(out, "key "+k+" is not in docs/config.md")
		}
	}
	for _, m := range envName.FindAllStringSubmatch(help, -1) {
		if !strings.Contains(doc, "`"+m[1]+"`") {
			out = append(out, "env "+m[1]+" is not in docs/config.md")
		}
	}
	return out
}
