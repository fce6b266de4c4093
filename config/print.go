package config

import (
	"flag"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// typeName is the value placeholder --help shows.
func typeName(t reflect.Type) string {
	if t == durationType {
		return "duration"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return ""
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "uint"
	}
	return "list"
}

// WriteHelp writes the --help text: --config and --print-config, every key's
// flag (with its aliases, type, help, default and env name) in registration
// order, then the other flags of fs (those extensions define themselves).
func (l *Loader) WriteHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage of %s:\n", fs.Name())
	fmt.Fprintf(w, "  --config file\n      TOML file to load settings from (env %s)\n", l.ConfigEnv())
	fmt.Fprintf(w, "  --print-config\n      print the merged config as TOML, with where each value came from, and exit\n")
	for _, f := range l.fields {
		shown := make([]string, len(f.flags))
		for i, n := range f.flags {
			shown[i] = "--" + n
			if f.inverted[n] {
				shown[i] += "=false" // sets the key to true
			}
		}
		names := strings.Join(shown, ", ")
		if tn := typeName(f.v.Type()); tn != "" {
			names += " " + tn
		}
		help := f.help
		if help == "" {
			help = "config key " + f.key
		}
		// Every key shows its default, the zero value's too: "none"
		// for an empty string or list.
		var extra []string
		switch d := f.shownDefault(); {
		case d == "" || d == "[]":
			extra = append(extra, "default none")
		case f.v.Kind() == reflect.String || f.v.Kind() == reflect.Slice:
			extra = append(extra, "default "+strconv.Quote(d))
		default:
			extra = append(extra, "default "+d)
		}
		extra = append(extra, "env "+f.env)
		fmt.Fprintf(w, "  %s\n      %s (%s)\n", names, help, strings.Join(extra, "; "))
	}
	fs.VisitAll(func(fl *flag.Flag) {
		if fl.Name == "config" || fl.Name == "print-config" || l.byFlag[fl.Name] != nil {
			return
		}
		name, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && !strings.Contains(usage, "(default ") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// PrintConfig writes the merged config as TOML, each value followed by a
// comment saying where it came from ("default", "app.toml:3", "env
// GRAFT_PORT", "flag --port"). Zero values with a documented default show
// the default. The output loads back to the same config.
func (l *Loader) PrintConfig(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# merged config; after each value, where it came from\n")
	var order []string
	groups := map[string][]*field{}
	for _, f := range l.fields {
		sec := ""
		if i := strings.LastIndexByte(f.key, '.'); i >= 0 {
			sec = f.key[:i]
		}
		if _, ok := groups[sec]; !ok {
			if sec == "" { // top-level keys must precede every [section]
				order = append([]string{""}, order...)
			} else {
				order = append(order, sec)
			}
		}
		groups[sec] = append(groups[sec], f)
	}
	for _, sec := range order {
		if sec != "" {
			b.WriteString("\n[")
			for i, part := range strings.Split(sec, ".") {
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(tomlKey(part))
			}
			b.WriteString("]\n")
		}
		for _, f := range groups[sec] {
			key := f.key[strings.LastIndexByte(f.key, '.')+1:]
			fmt.Fprintf(&b, "%s = %s # %s\n", tomlKey(key), tomlValue(f.shown()), f.source)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shown is the value --print-config prints: the loaded one, or the
// documented default for a zero value.
func (f *field) shown() reflect.Value {
	if f.def != "" && f.v.IsZero() {
		d := reflect.New(f.v.Type()).Elem()
		parseInto(d, f.def)
		return d
	}
	return f.v
}

func tomlKey(k string) string {
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return tomlString(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlValue(v reflect.Value) string {
	t := v.Type()
	if t == durationType {
		return tomlString(time.Duration(v.Int()).String())
	}
	switch t.Kind() {
	case reflect.String:
		return tomlString(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
		s := strconv.FormatFloat(x, 'g', -1, t.Bits())
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = tomlString(v.Index(i).String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return `""`
}
