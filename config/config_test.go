package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files")

type wsSection struct {
	IdleTimeout time.Duration `flag:"ws.idle-timeout,ws-idle-timeout" help:"close idle WebSockets" default:"1m0s"`
	MaxSize     int           `help:"largest message in bytes"`
	Broker      brokerSection
}

type brokerSection struct {
	URL      string `toml:"url" help:"broker address"`
	Optional bool   `help:"start without the broker"`
}

type serverConfig struct {
	Host        string        `help:"interface to listen on"`
	Port        int           `help:"TCP port" default:"8080"`
	IdleTimeout time.Duration `help:"keep-alive idle timeout" default:"2m0s"`
	Origins     []string      `help:"allowed origins"`
	Ratio       float64       `help:"sampling ratio"`
	Debug       bool          `help:"log debug lines"`
	Workers     uint8
	WS          wsSection    `toml:"ws"`
	Logger      *slog.Logger // not a key
	Hidden      string       `toml:"-"`
}

// setup returns a loader over a fresh serverConfig with the given
// environment, and its flag set.
func setup(t testing.TB, env ...string) (*Loader, *serverConfig, *flag.FlagSet) {
	t.Helper()
	cfg := &serverConfig{}
	l := New("GRAFT")
	l.SetEnviron(func() []string { return env })
	if err := l.Add("", cfg); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l.DefineFlags(fs)
	return l, cfg, fs
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeysAndNames(t *testing.T) {
	l, _, _ := setup(t)
	got := strings.Join(l.Keys(), " ")
	want := "host port idle-timeout origins ratio debug workers ws.idle-timeout ws.max-size ws.broker.url ws.broker.optional"
	if got != want {
		t.Fatalf("keys\n got %s\nwant %s", got, want)
	}
	for key, env := range map[string]string{
		"idle-timeout": "GRAFT_IDLE_TIMEOUT", "ws.max-size": "GRAFT_WS_MAX_SIZE", "ws.broker.url": "GRAFT_WS_BROKER_URL",
	} {
		if f := l.byKey[key]; f == nil || f.env != env {
			t.Errorf("env name of %s: got %+v, want %s", key, f, env)
		}
	}
	for in, want := range map[string]string{"IdleTimeout": "idle-timeout", "SSLCert": "ssl-cert", "H2C": "h2c", "UDS": "uds", "MaxHTTPBody": "max-http-body", "URL": "url"} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := "port = 1000\nidle-timeout = \"5s\"\norigins = [\"a\", \"b\"]\n\n[ws]\nmax-size = 10\nbroker = { url = \"nats://file\" }\n"
	cases := []struct {
		name    string
		file    bool
		env     []string
		args    []string
		port    int
		idle    time.Duration
		maxSize int
		url     string
		origins []string
		sources map[string]string
	}{
		{name: "defaults", port: 0, sources: map[string]string{"port": "default", "ws.max-size": "default"}},
		{name: "file", file: true, port: 1000, idle: 5 * time.Second, maxSize: 10, url: "nats://file", origins: []string{"a", "b"},
			sources: map[string]string{"port": "app.toml:1", "ws.max-size": "app.toml:6", "ws.broker.url": "app.toml:7", "origins": "app.toml:3"}},
		{name: "env over file", file: true, env: []string{"GRAFT_PORT=2000", "GRAFT_WS_BROKER_URL=nats://env", "GRAFT_ORIGINS=x, y", "OTHER=1"},
			port: 2000, idle: 5 * time.Second, maxSize: 10, url: "nats://env", origins: []string{"x", "y"},
			sources: map[string]string{"port": "env GRAFT_PORT", "ws.broker.url": "env GRAFT_WS_BROKER_URL", "idle-timeout": "app.toml:2"}},
		{name: "flags over env", file: true, env: []string{"GRAFT_PORT=2000", "GRAFT_WS_MAX_SIZE=20"},
			args: []string{"--port=3000", "--ws.max-size", "30", "--ws-idle-timeout=7s", "--ws.broker.url=nats://flag"},
			port: 3000, idle: 5 * time.Second, maxSize: 30, url: "nats://flag", origins: []string{"a", "b"},
			sources: map[string]string{"port": "flag --port", "ws.max-size": "flag --ws.max-size", "ws.idle-timeout": "flag --ws-idle-timeout"}},
		{name: "file from env", env: []string{"GRAFT_CONFIG=FILE"}, port: 1000, idle: 5 * time.Second, maxSize: 10, url: "nats://file", origins: []string{"a", "b"},
			sources: map[string]string{"port": "app.toml:1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "app.toml", file)
			env := append([]string(nil), tc.env...)
			for i, e := range env {
				env[i] = strings.Replace(e, "FILE", path, 1)
			}
			l, cfg, fs := setup(t, env...)
			args := tc.args
			if tc.file {
				args = append([]string{"--config", path}, args...)
			}
			if err := l.Load(fs, append([]string{}, args...)); err != nil {
				t.Fatal(err)
			}
			if cfg.Port != tc.port || cfg.IdleTimeout != tc.idle || cfg.WS.MaxSize != tc.maxSize || cfg.WS.Broker.URL != tc.url || !reflect.DeepEqual(cfg.Origins, tc.origins) {
				t.Fatalf("got port %d idle %v max-size %d url %q origins %q", cfg.Port, cfg.IdleTimeout, cfg.WS.MaxSize, cfg.WS.Broker.URL, cfg.Origins)
			}
			for key, want := range tc.sources {
				got := l.Source(key)
				if filepath.Base(strings.TrimPrefix(got, filepath.Dir(path)+"/")) != want && got != want {
					t.Errorf("source of %s: got %q, want %q", key, got, want)
				}
			}
			if tc.name == "flags over env" && cfg.WS.IdleTimeout != 7*time.Second {
				t.Errorf("alias --ws-idle-timeout: got %v", cfg.WS.IdleTimeout)
			}
		})
	}
}

func TestValueForms(t *testing.T) {
	path := writeFile(t, "forms.toml", `
ratio = 1
workers = 0x10
debug = true
[ws.broker]
optional = true
`)
	l, cfg, fs := setup(t, "GRAFT_HOST=::1")
	if err := l.Load(fs, []string{"--config=" + path, "--ws.broker.optional=false", "--debug=false"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Ratio != 1 || cfg.Workers != 16 || cfg.Debug || cfg.WS.Broker.Optional || cfg.Host != "::1" {
		t.Fatalf("got %+v", cfg)
	}
	// A bare boolean flag means true.
	l, cfg, fs = setup(t)
	if err := l.Load(fs, []string{"--debug"}); err != nil || !cfg.Debug {
		t.Fatalf("--debug: err %v, debug %v", err, cfg.Debug)
	}
}

// TestErrors pins each failure's message: the source, the key, the value
// and what was expected.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		file string // content of bad.toml; "" for none
		env  []string
		args []string
		want string
	}{
		{name: "unknown key", file: "host = \"h\"\nprot = 80\n",
			want: `config: bad.toml:2: key "prot" = "80": unknown key (did you mean "port"?); see --help for the keys`},
		{name: "unknown key in section", file: "[ws]\nmax-sise = 1\n",
			want: `config: bad.toml:2: key "ws.max-sise" = "1": unknown key (did you mean "ws.max-size"?); see --help for the keys`},
		{name: "unknown section", file: "\n[wss]\n",
			want: `config: bad.toml:2: key "wss": unknown section (did you mean "ws"?); see --help for the keys`},
		{name: "wrong type", file: "port = \"8080\"\n",
			want: `config: bad.toml:1: key "port" = "8080": expected an integer (64 bits), got a string`},
		{name: "bad duration", file: "\n\nidle-timeout = \"5 minutes\"\n",
			want: `config: bad.toml:3: key "idle-timeout" = "5 minutes": expected a duration such as "30s" or "1m30s"`},
		{name: "duration as number", file: "idle-timeout = 5\n",
			want: `config: bad.toml:1: key "idle-timeout" = "5": expected a duration such as "30s" or "1m30s", got an integer`},
		{name: "out of range", file: "workers = 300\n",
			want: `config: bad.toml:1: key "workers" = "300": expected a non-negative integer (8 bits): negative or out of range`},
		{name: "list element", file: "origins = [\"a\", 2]\n",
			want: `config: bad.toml:1: key "origins" = "2": expected a list of strings, got an integer in the list`},
		{name: "section as key", file: "ws = 3\n",
			want: `config: bad.toml:1: key "ws": is a section; expected [ws] or ws = { … }`},
		{name: "syntax", file: "port = = 1\n",
			want: `config: bad.toml:1: invalid TOML at column 8: toml: unexpected character U+003D '=' at start of value`},
		{name: "missing file", args: []string{"--config", "/nonexistent/app.toml"},
			want: `config: flag --config: cannot read config file "/nonexistent/app.toml" (no such file or directory); expected a readable TOML file`},
		{name: "missing file from env", env: []string{"GRAFT_CONFIG=/nonexistent/env.toml"},
			want: `config: env GRAFT_CONFIG: cannot read config file "/nonexistent/env.toml" (no such file or directory); expected a readable TOML file`},
		{name: "bad env value", env: []string{"GRAFT_WS_MAX_SIZE=big"},
			want: `config: env GRAFT_WS_MAX_SIZE: key "ws.max-size" = "big": expected an integer (64 bits)`},
		{name: "unknown env", env: []string{"GRAFT_PROT=1"},
			want: `config: env GRAFT_PROT: value "1": unknown variable: no config key has this env name (did you mean GRAFT_PORT?)`},
		{name: "bad flag value", args: []string{"--port", "eighty"},
			want: `config: flag --port: key "port" = "eighty": expected an integer (64 bits)`},
		{name: "bad alias value", args: []string{"--ws-idle-timeout=soon"},
			want: `config: flag --ws-idle-timeout: key "ws.idle-timeout" = "soon": expected a duration such as "30s" or "1m30s"`},
		{name: "unknown flag", args: []string{"--prot=1"},
			want: `config: flag --prot: value "1": unknown flag (did you mean --port?); see --help`},
		{name: "unknown flag without a value", args: []string{"--prot", "1"},
			want: `config: flag --prot: unknown flag (did you mean --port?); see --help`},
		{name: "unknown key with a table value", file: "workers = 1\nprot = [1, 2]\n",
			want: `config: bad.toml:2: key "prot" = "[…]": unknown key (did you mean "port"?); see --help for the keys`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			if tc.file != "" {
				args = append([]string{"--config", writeFile(t, "bad.toml", tc.file)}, args...)
			}
			l, _, fs := setup(t, tc.env...)
			err := l.Load(fs, args)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want a *config.Error", err, err)
			}
			got := err.Error()
			if tc.file != "" {
				dir := filepath.Dir(strings.TrimPrefix(args[1], ""))
				got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
			}
			if got != tc.want {
				t.Fatalf("message\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSetupMistakes(t *testing.T) {
	type badType struct{ M map[string]int }
	type badDefault struct {
		N int `default:"lots"`
	}
	type dupEnv struct {
		A int `env:"GRAFT_X"`
		B int `env:"GRAFT_X"`
	}
	cases := []struct {
		target any
		want   string
	}{
		{&badType{}, `config: config.badType.M: type map[string]int cannot be a config key (use string, bool, a number, time.Duration, []string or a struct; or tag it toml:"-")`},
		{&badDefault{}, `config: config.badDefault.N: default tag "lots": expected an integer (64 bits)`},
		{&dupEnv{}, `config: config.dupEnv.B: env name GRAFT_X is also key "s.a"'s; set an env tag on one`},
		{badType{}, `config: section "s": target is config.badType, want a non-nil pointer to a struct`},
	}
	for _, tc := range cases {
		l := New("GRAFT")
		err := l.Add("s", tc.target)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Add(%T):\n got %v\nwant %s", tc.target, err, tc.want)
		}
	}
	l := New("GRAFT")
	if err := l.Add("s", &serverConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Add("s", &serverConfig{}); err == nil || err.Error() != `config: section "s" added twice` {
		t.Errorf("second Add: %v", err)
	}
}

func TestHelpOutput(t *testing.T) {
	l, _, fs := setup(t)
	fs.Int("extra", 3, "a flag an extension defined itself")
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := l.Load(fs, []string{"--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: got %v, want flag.ErrHelp", err)
	}
	golden(t, "help.golden", out.String())
}

func TestPrintConfig(t *testing.T) {
	path := writeFile(t, "app.toml", "port = 1000\n[ws.broker]\nurl = \"nats://x\"\n")
	l, _, fs := setup(t, "GRAFT_HOST=h\"q", "GRAFT_RATIO=0.5")
	if err := l.Load(fs, []string{"--config", path, "--print-config", "--ws.max-size=9", "--origins=a,b"}); err != nil {
		t.Fatal(err)
	}
	if !l.PrintRequested() {
		t.Fatal("PrintRequested is false after --print-config")
	}
	var out bytes.Buffer
	if err := l.PrintConfig(&out); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(out.String(), filepath.Dir(path)+"/", "")
	golden(t, "print-config.golden", got)

	// What was printed loads back to the same config.
	again := writeFile(t, "again.toml", out.String())
	l2, cfg2, fs2 := setup(t)
	if err := l2.Load(fs2, []string{"--config", again}); err != nil {
		t.Fatalf("loading the printed config: %v", err)
	}
	if cfg2.Port != 1000 || cfg2.Host != `h"q` || cfg2.Ratio != 0.5 || cfg2.WS.MaxSize != 9 || cfg2.WS.Broker.URL != "nats://x" ||
		!reflect.DeepEqual(cfg2.Origins, []string{"a", "b"}) || cfg2.IdleTimeout != 2*time.Minute {
		t.Fatalf("printed config loaded back as %+v", cfg2)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs (run with -update after checking):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestAddAfterLoad(t *testing.T) {
	l, _, fs := setup(t)
	if err := l.Load(fs, []string{}); err != nil {
		t.Fatal(err)
	}
	err := l.Add("late", &struct{ N int }{})
	want := `config: section "late" added after the config was loaded, so the file, the environment and the flags would not reach it; add it before Load`
	if err == nil || err.Error() != want {
		t.Fatalf("Add after Load: %v", err)
	}
}

// TestInvertedAlias: a bool key's alias tagged "!name" sets the key's
// negation, so an old flag that says what it turns on (--auto-ping=false)
// keeps working for a key that says what it turns off (disable-pings),
// which the file and the environment set too.
func TestInvertedAlias(t *testing.T) {
	type pings struct {
		DisablePings bool `flag:"disable-pings,!auto-ping" help:"stop the pings"`
	}
	load := func(env []string, args ...string) (*Loader, *pings, *flag.FlagSet, error) {
		cfg := &pings{}
		l := New("GRAFT")
		l.SetEnviron(func() []string { return env })
		if err := l.Add("ws", cfg); err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("app", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		l.DefineFlags(fs)
		return l, cfg, fs, l.Load(fs, append([]string{}, args...))
	}
	for _, tc := range []struct {
		env    []string
		args   []string
		want   bool
		source string
	}{
		{nil, []string{"--auto-ping=false"}, true, "flag --auto-ping"},
		{nil, []string{"--auto-ping"}, false, "flag --auto-ping"},
		{[]string{"GRAFT_WS_DISABLE_PINGS=true"}, nil, true, "env GRAFT_WS_DISABLE_PINGS"},
		{[]string{"GRAFT_WS_DISABLE_PINGS=true"}, []string{"--auto-ping=true"}, false, "flag --auto-ping"},
		{nil, []string{"--disable-pings"}, true, "flag --disable-pings"},
	} {
		l, cfg, _, err := load(tc.env, tc.args...)
		if err != nil || cfg.DisablePings != tc.want || l.Source("ws.disable-pings") != tc.source {
			t.Errorf("env %v args %v: err %v, DisablePings %v from %q; want %v from %q", tc.env, tc.args, err, cfg.DisablePings, l.Source("ws.disable-pings"), tc.want, tc.source)
		}
	}
	_, _, _, err := load(nil, "--auto-ping=sometimes")
	if err == nil || err.Error() != `config: flag --auto-ping: key "ws.disable-pings" = "sometimes": expected true or false` {
		t.Errorf("bad value: %v", err)
	}
	l, _, fs, _ := load(nil)
	var out bytes.Buffer
	l.WriteHelp(&out, fs)
	if want := "  --disable-pings, --auto-ping=false\n      stop the pings (default false; env GRAFT_WS_DISABLE_PINGS)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("--help lacks %q:\n%s", want, out.String())
	}
	for _, target := range []any{
		&struct {
			N int `flag:"n,!m"`
		}{},
		&struct {
			B bool `flag:"!b"`
		}{},
	} {
		err := New("GRAFT").Add("s", target)
		if err == nil || !strings.Contains(err.Error(), `only an alias of a bool key may be inverted (flag:"name,!alias")`) {
			t.Errorf("Add(%T): %v", target, err)
		}
	}
}
