package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error is a configuration mistake found by Load: where it was (Source), the
// key and value concerned, and what was expected.
type Error struct {
	// Source is where the value came from: "app.toml:3", "env GRAFT_PORT",
	// "flag --port".
	Source string
	// Key is the dotted config key ("ws.idle-timeout"), or the flag or
	// variable name when it matched no key.
	Key string
	// Value is the offending value as written, when there is one.
	Value string
	// Problem says what is wrong and what was expected.
	Problem string
}

// Error formats the mistake on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.Source)
	b.WriteString(": ")
	switch {
	case e.Key != "":
		fmt.Fprintf(&b, "key %q", e.Key)
		if e.Value != "" {
			fmt.Fprintf(&b, " = %q", e.Value)
		}
		b.WriteString(": ")
	case e.Value != "":
		fmt.Fprintf(&b, "value %q: ", e.Value) // a variable or flag that is no key
	}
	b.WriteString(e.Problem)
	return b.String()
}

// field is one config key.
type field struct {
	key   string   // dotted: "ws.idle-timeout"
	flags []string // primary flag name, then aliases
	// inverted holds the aliases that set the negation of a boolean
	// (tagged "!name": --ws-auto-ping=false sets DisablePings).
	inverted map[string]bool
	env      string
	help     string
	def      string // default tag
	v        reflect.Value
	initial  string // the value before loading, formatted
	source   string // "default", "file.toml:3", "env X", "flag --x"
}

// Loader loads registered structs from a TOML file, the environment and
// flags. Make one with New, Add the structs, DefineFlags on the flag set,
// then Load.
type Loader struct {
	prefix   string
	environ  func() []string
	fields   []*field
	byKey    map[string]*field
	byEnv    map[string]*field
	sections map[string]bool
	byFlag   map[string]*field
	defined  *flag.FlagSet
	file     string // --config
	print    bool   // --print-config
	pending  []flagSet
	loaded   bool // Load or Apply ran: a later section would miss its values
}

type flagSet struct {
	f    *field
	name string
	val  string
	neg  bool // an inverted alias: the key gets the negation of val
}

// New returns a Loader whose environment variables start with prefix and
// an underscore ("GRAFT" reads GRAFT_PORT, and GRAFT_CONFIG names the file).
func New(prefix string) *Loader {
	return &Loader{
		prefix:   strings.ToUpper(prefix),
		environ:  os.Environ,
		byKey:    map[string]*field{},
		byEnv:    map[string]*field{},
		sections: map[string]bool{},
		byFlag:   map[string]*field{},
	}
}

// FillDefaults sets every key registered so far whose value is the zero
// value and that has a default tag to that default, so that code reading
// the struct sees the documented default rather than zero.
func (l *Loader) FillDefaults() {
	for _, f := range l.fields {
		if f.def != "" && f.v.IsZero() {
			parseInto(f.v, f.def)
		}
	}
}

// SetEnviron replaces os.Environ as the source of environment variables
// (each "NAME=value"); tests use it.
func (l *Loader) SetEnviron(environ func() []string) { l.environ = environ }

// ConfigEnv is the variable naming the TOML file when --config is not
// given: PREFIX_CONFIG.
func (l *Loader) ConfigEnv() string { return l.prefix + "_CONFIG" }

var durationType = reflect.TypeFor[time.Duration]()

// Add registers target, a pointer to a struct, as the section name ("" for
// top-level keys; "ws" for [ws] in the file, --ws.* flags, PREFIX_WS_* env
// names). After DefineFlags, Add defines the section's flags on the same
// flag set, so sections may come after the flags of others (extensions
// registered later), but not after Load. It fails naming the field when a field has an unsupported type,
// a bad default tag, or a key, flag or env name already taken.
func (l *Loader) Add(name string, target any) error {
	if l.loaded {
		return fmt.Errorf("config: section %q added after the config was loaded, so the file, the environment and the flags would not reach it; add it before Load", name)
	}
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: section %q: target is %T, want a non-nil pointer to a struct", name, target)
	}
	if name != "" {
		if _, dup := l.byKey[name]; dup || l.sections[name] {
			return fmt.Errorf("config: section %q added twice", name)
		}
	}
	before := len(l.fields)
	if err := l.addStruct(name, rv.Elem()); err != nil {
		return err
	}
	if fs := l.defined; fs != nil {
		// Flags already defined: define the new section's now, after
		// checking that none is taken by a flag defined another way.
		for _, f := range l.fields[before:] {
			for _, n := range f.flags {
				if fs.Lookup(n) != nil {
					return fmt.Errorf("config: section %q: key %q: flag --%s is already defined; set a flag tag on the field", name, f.key, n)
				}
			}
		}
		for _, f := range l.fields[before:] {
			l.defineFlags(fs, f)
		}
	}
	return nil
}

func (l *Loader) addStruct(section string, sv reflect.Value) error {
	if section != "" {
		l.sections[section] = true
	}
	st := sv.Type()
	for i := range st.NumField() {
		sf := st.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("toml")
		if tag == "-" {
			continue
		}
		key := tag
		if key == "" {
			key = kebab(sf.Name)
		}
		full := key
		if section != "" {
			full = section + "." + key
		}
		fv := sv.Field(i)
		where := st.String() + "." + sf.Name
		switch {
		case sf.Type.Kind() == reflect.Struct && sf.Type != durationType:
			if l.sections[full] || l.byKey[full] != nil {
				return fmt.Errorf("config: %s: section %q defined twice", where, full)
			}
			if err := l.addStruct(full, fv); err != nil {
				return err
			}
			continue
		case skipped(sf.Type):
			continue
		case !supported(sf.Type):
			return fmt.Errorf("config: %s: type %s cannot be a config key (use string, bool, a number, time.Duration, []string or a struct; or tag it toml:\"-\")", where, sf.Type)
		}
		f := &field{key: full, v: fv, help: sf.Tag.Get("help"), def: sf.Tag.Get("default"), source: "default"}
		if t := sf.Tag.Get("flag"); t != "" {
			f.flags = strings.Split(t, ",")
		} else {
			f.flags = []string{full}
		}
		for i, n := range f.flags {
			if !strings.HasPrefix(n, "!") {
				continue
			}
			if i == 0 || sf.Type.Kind() != reflect.Bool {
				return fmt.Errorf("config: %s: flag %q: only an alias of a bool key may be inverted (flag:\"name,!alias\")", where, n)
			}
			n = n[1:]
			f.flags[i] = n
			if f.inverted == nil {
				f.inverted = map[string]bool{}
			}
			f.inverted[n] = true
		}
		f.env = sf.Tag.Get("env")
		if f.env == "" {
			f.env = l.envName(full)
		}
		if f.def != "" {
			probe := reflect.New(sf.Type).Elem()
			if p := parseInto(probe, f.def); p != "" {
				return fmt.Errorf("config: %s: default tag %q: %s", where, f.def, p)
			}
		}
		if l.byKey[full] != nil || l.sections[full] {
			return fmt.Errorf("config: %s: key %q defined twice", where, full)
		}
		if g := l.byEnv[f.env]; g != nil {
			return fmt.Errorf("config: %s: env name %s is also key %q's; set an env tag on one", where, f.env, g.key)
		}
		for _, n := range f.flags {
			if g := l.byFlag[n]; g != nil {
				return fmt.Errorf("config: %s: flag --%s is also key %q's; set a flag tag on one", where, n, g.key)
			}
			l.byFlag[n] = f
		}
		f.initial = format(fv)
		l.byKey[full] = f
		l.byEnv[f.env] = f
		l.fields = append(l.fields, f)
	}
	return nil
}

func (l *Loader) envName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return l.prefix + "_" + strings.ToUpper(r.Replace(key))
}

func skipped(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}

func supported(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// kebab turns a Go field name into a key: IdleTimeout -> idle-timeout,
// SSLCert -> ssl-cert, H2C -> h2c.
func kebab(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		up := c >= 'A' && c <= 'Z'
		if up && i > 0 {
			prev := r[i-1]
			prevLower := prev >= 'a' && prev <= 'z'
			nextLower := i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z'
			if prevLower || nextLower {
				b.WriteByte('-')
			}
		}
		if up {
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// expected describes what a value of t must look like.
func expected(t reflect.Type) string {
	if t == durationType {
		return `expected a duration such as "30s" or "1m30s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "expected a string"
	case reflect.Bool:
		return "expected true or false"
	case reflect.Float32, reflect.Float64:
		return "expected a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("expected an integer (%d bits)", t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("expected a non-negative integer (%d bits)", t.Bits())
	case reflect.Slice:
		return "expected a list of strings"
	}
	return "unsupported type " + t.String()
}

// parseInto sets v from its text form (flags, env, default tags); it
// returns "" or what was expected.
func parseInto(v reflect.Value, s string) string {
	t := v.Type()
	if t == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return expected(t)
		}
		v.SetInt(int64(d))
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return expected(t)
		}
		v.SetBool(b)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return expected(t)
		}
		v.SetFloat(f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, t.Bits())
		if err != nil {
			return expected(t)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, t.Bits())
		if err != nil {
			return expected(t)
		}
		v.SetUint(n)
	case reflect.Slice:
		var list []string
		if s != "" {
			list = strings.Split(s, ",")
			for i := range list {
				list[i] = strings.TrimSpace(list[i])
			}
		}
		v.Set(reflect.ValueOf(list).Convert(t))
	default:
		return expected(t)
	}
	return ""
}

// format renders v as flags and env take it.
func format(v reflect.Value) string {
	t := v.Type()
	if t == durationType {
		return time.Duration(v.Int()).String()
	}
	switch t.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, t.Bits())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Slice:
		return strings.Join(v.Interface().([]string), ",") // only []string-kind slices are keys
	}
	return ""
}

// flagValue is the flag.Value of one key: Set records the text, applied
// after the file and the environment so flags win.
type flagValue struct {
	l    *Loader
	f    *field
	name string
	neg  bool // an inverted alias of a bool key
}

func (fv *flagValue) String() string {
	if fv == nil || fv.f == nil {
		return ""
	}
	d := fv.f.shownDefault()
	if fv.neg {
		if b, err := strconv.ParseBool(d); err == nil {
			return strconv.FormatBool(!b)
		}
	}
	return d
}

func (fv *flagValue) Set(s string) error {
	fv.l.pending = append(fv.l.pending, flagSet{fv.f, fv.name, s, fv.neg})
	return nil
}

func (fv *flagValue) IsBoolFlag() bool { return fv.f.v.Kind() == reflect.Bool }

// shownDefault is the default --help shows: the value before loading, or
// the default tag when that is the zero value.
func (f *field) shownDefault() string {
	if f.def != "" && f.initial == format(reflect.New(f.v.Type()).Elem()) {
		return f.def
	}
	return f.initial
}

type stringValue struct{ p *string }

func (s stringValue) String() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}
func (s stringValue) Set(v string) error { *s.p = v; return nil }

type boolValue struct{ p *bool }

func (b boolValue) String() string { return strconv.FormatBool(b.p != nil && *b.p) }
func (b boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("expected true or false")
	}
	*b.p = x
	return nil
}
func (b boolValue) IsBoolFlag() bool { return true }

// DefineFlags defines on fs a flag for every key (with its aliases),
// --config and --print-config. It panics, as flag does, when a name is
// already defined on fs.
func (l *Loader) DefineFlags(fs *flag.FlagSet) {
	l.defined = fs
	fs.Var(stringValue{&l.file}, "config", "TOML `file` to load settings from (env "+l.ConfigEnv()+")")
	fs.Var(boolValue{&l.print}, "print-config", "print the merged config as TOML, with where each value came from, and exit")
	for _, f := range l.fields {
		l.defineFlags(fs, f)
	}
	if fs.Usage == nil || reflect.ValueOf(fs.Usage).Pointer() == defaultUsage {
		fs.Usage = func() { l.WriteHelp(fs.Output(), fs) }
	}
}

func (l *Loader) defineFlags(fs *flag.FlagSet, f *field) {
	for _, n := range f.flags {
		fs.Var(&flagValue{l, f, n, f.inverted[n]}, n, f.help)
	}
}

// defaultUsage identifies the usage function flag.NewFlagSet installs.
var defaultUsage = reflect.ValueOf(flag.NewFlagSet("", flag.ContinueOnError).Usage).Pointer()

// PrintRequested reports whether --print-config was given; the program
// then calls PrintConfig and exits.
func (l *Loader) PrintRequested() bool { return l.print }

// Source returns where key's value came from after Load: "default",
// "app.toml:3", "env GRAFT_PORT" or "flag --port"; "" for an unknown key.
func (l *Loader) Source(key string) string {
	if f := l.byKey[key]; f != nil {
		return f.source
	}
	return ""
}

// Keys returns the dotted keys in registration order.
func (l *Loader) Keys() []string {
	keys := make([]string, len(l.fields))
	for i, f := range l.fields {
		keys[i] = f.key
	}
	return keys
}

// Load parses args (os.Args[1:] when nil) with fs, on which DefineFlags ran,
// then applies the TOML file (--config, else PREFIX_CONFIG, else none), the
// environment, then the flags. It returns flag.ErrHelp after printing help
// for --help, and an *Error for every other mistake.
func (l *Loader) Load(fs *flag.FlagSet, args []string) error {
	if l.defined != fs {
		return errors.New("config: Load needs the flag set DefineFlags ran on")
	}
	if args == nil {
		args = os.Args[1:]
	}
	if !fs.Parsed() {
		if err := fs.Parse(args); err != nil {
			return l.flagError(err, args)
		}
	}
	return l.apply()
}

// Apply is Load for a flag set the caller has already parsed.
func (l *Loader) Apply() error { return l.apply() }

func (l *Loader) apply() error {
	l.loaded = true
	env := map[string]string{}
	var envNames []string
	for _, kv := range l.environ() {
		name, val, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, l.prefix+"_") {
			env[name] = val
			envNames = append(envNames, name)
		}
	}
	sort.Strings(envNames)
	file, fileSrc := l.file, "flag --config"
	if file == "" {
		if v, ok := env[l.ConfigEnv()]; ok {
			file, fileSrc = v, "env "+l.ConfigEnv()
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return &Error{Source: fileSrc, Problem: fmt.Sprintf("cannot read config file %q (%v); expected a readable TOML file", file, errors.Unwrap(err))}
		}
		if err := l.loadTOML(file, data); err != nil {
			return err
		}
	}
	for _, name := range envNames {
		if name == l.ConfigEnv() {
			continue
		}
		f := l.byEnv[name]
		if f == nil {
			p := "unknown variable: no config key has this env name"
			if s := l.closestEnv(name); s != "" {
				p += " (did you mean " + s + "?)"
			}
			return &Error{Source: "env " + name, Value: env[name], Problem: p}
		}
		if p := parseInto(f.v, env[name]); p != "" {
			return &Error{Source: "env " + name, Key: f.key, Value: env[name], Problem: p}
		}
		f.source = "env " + name
	}
	for _, p := range l.pending {
		val := p.val
		if p.neg {
			if b, err := strconv.ParseBool(val); err == nil {
				val = strconv.FormatBool(!b)
			}
		}
		if msg := parseInto(p.f.v, val); msg != "" {
			return &Error{Source: "flag --" + p.name, Key: p.f.key, Value: p.val, Problem: msg}
		}
		p.f.source = "flag --" + p.name
	}
	l.pending = nil
	return nil
}

// flagValueIn returns the value given to flag name in args with the
// --name=value form, "" when there is none (the next argument may or may
// not be the value of a flag that does not exist).
func flagValueIn(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		for _, pre := range []string{"--" + name + "=", "-" + name + "="} {
			if v, ok := strings.CutPrefix(a, pre); ok {
				return v
			}
		}
	}
	return ""
}

// flagError rewrites the flag package's parse errors in the loader's form.
func (l *Loader) flagError(err error, args []string) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		p := "unknown flag"
		if s := closest(name, l.flagNames()); s != "" {
			p += " (did you mean --" + s + "?)"
		}
		return &Error{Source: "flag --" + name, Value: flagValueIn(args, name), Problem: p + "; see --help"}
	}
	return &Error{Source: "flags", Problem: msg}
}

func (l *Loader) flagNames() []string {
	var names []string
	l.defined.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func (l *Loader) closestEnv(name string) string {
	names := make([]string, 0, len(l.byEnv))
	for n := range l.byEnv {
		names = append(names, n)
	}
	slices.Sort(names)
	return closest(name, names)
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
