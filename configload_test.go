package graft

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/config"
	"github.com/graftgo/graft/di"
)

// greeterConfig is an extension's own config section.
type greeterConfig struct {
	Greeting string        `help:"what GET /greet answers" default:"hello"`
	Times    int           `help:"how many times"`
	Delay    time.Duration `help:"unused; shows a duration key"`
}

type greeter struct{ cfg greeterConfig }

func (*greeter) ID() string                     { return "test.greeter" }
func (g *greeter) ConfigSection() (string, any) { return "greeter", &g.cfg }
func (g *greeter) Extend(b *Builder) error      { b.Handle("GET", "/greet", g.greet); return nil }
func (g *greeter) greet(c *Ctx) error           { return c.Text(200, strings.Repeat(g.greeting(), g.cfg.Times)) }
func (g *greeter) greeting() string             { return g.cfg.Greeting }
func writeTOML(t *testing.T, content string) (path string) {
	return writeTestFile(t, "app.toml", content)
}

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigSources loads the core Config from a file, the environment
// and flags, with flags over env over file, and serves with the result.
func TestConfigSources(t *testing.T) {
	path := writeTOML(t, "host = \"127.0.0.1\"\nport = -1\nbody-limit = 10\nreq-res-factory-maxitems = 5\n\n[greeter]\ngreeting = \"hi\"\ntimes = 1\n")
	t.Setenv("GRAFT_BODY_LIMIT", "12")
	t.Setenv("GRAFT_GREETER_TIMES", "2")
	app, _ := newApp(t, Config{})
	g := &greeter{}
	app.Register(g)
	if err := app.ParseFlags([]string{"--config", path, "--req-res-factory-maxitems=3"}); err != nil {
		t.Fatal(err)
	}
	cfg := app.Config()
	if cfg.Host != "127.0.0.1" || cfg.Port != -1 || cfg.BodyLimit != 12 || cfg.RequestPoolMaxItems != 3 || cfg.IdleTimeout != DefaultIdleTimeout {
		t.Fatalf("loaded %+v", cfg)
	}
	l := app.ConfigLoader()
	for key, want := range map[string]string{
		"port": path + ":2", "body-limit": "env GRAFT_BODY_LIMIT", "req-res-factory-maxitems": "flag --req-res-factory-maxitems",
		"idle-timeout": "default", "greeter.greeting": path + ":7", "greeter.times": "env GRAFT_GREETER_TIMES",
	} {
		if got := l.Source(key); got != want {
			t.Errorf("source of %s: got %q, want %q", key, got, want)
		}
	}
	app.POST("/", func(c *Ctx) error {
		_, err := c.Body()
		return err
	})
	addr := startApp(t, app)
	cl := newClient(t, nil)
	if st := app.PoolStats(); st.Max != 3 {
		t.Errorf("pool max %d, want 3 from the flag", st.Max)
	}
	if res := doClient(t, cl, "POST", "http://"+addr+"/", strings.NewReader("thirteen byte")); res.status != 413 {
		t.Errorf("13-byte body with body-limit 12 from env: status %d", res.status)
	}
	if res := doClient(t, cl, "GET", "http://"+addr+"/greet", nil); res.status != 200 || res.body != "hihi" {
		t.Errorf("GET /greet: %d %q, want the extension's section from file and env", res.status, res.body)
	}
	// The loaded config is in the dependency graph.
	if c, err := di.Get[Config](app.Graph()); err != nil || c.BodyLimit != 12 {
		t.Errorf("Config from the graph: %v, body limit %d", err, c.BodyLimit)
	}
	if s, err := di.Get[*greeterConfig](app.Graph()); err != nil || s != &g.cfg {
		t.Errorf("*greeterConfig from the graph: %v, %p want %p", err, s, &g.cfg)
	}
	if ld, err := di.Get[*config.Loader](app.Graph()); err != nil || ld != l {
		t.Errorf("*config.Loader from the graph: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	path := writeTOML(t, "port = 80\n[greeter]\ngreting = \"hi\"\n")
	app, _ := newApp(t, Config{})
	app.Register(&greeter{})
	err := app.ParseFlags([]string{"--config", path})
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *config.Error", err)
	}
	want := `config: ` + path + `:3: key "greeter.greting" = "hi": unknown key (did you mean "greeter.greeting"?); see --help for the keys`
	if err.Error() != want {
		t.Fatalf("message\n got %s\nwant %s", err, want)
	}

	t.Setenv("GRAFT_PORT", "eighty")
	app, _ = newApp(t, Config{})
	if err := app.ParseFlags([]string{}); err == nil || err.Error() != `config: env GRAFT_PORT: key "port" = "eighty": expected an integer (64 bits)` {
		t.Fatalf("bad env value: %v", err)
	}

	// A section that cannot be config fails at start naming the extension.
	app, _ = newApp(t, Config{})
	app.Register(&badSection{})
	err = app.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), `graft: extension test.badsection: config: graft.badSectionConfig.Hooks: type map[string]string cannot be a config key`) {
		t.Fatalf("Start with a bad section: %v", err)
	}
}

type badSectionConfig struct{ Hooks map[string]string }
type badSection struct{ cfg badSectionConfig }

func (*badSection) ID() string                     { return "test.badsection" }
func (b *badSection) ConfigSection() (string, any) { return "bad", &b.cfg }
func (b *badSection) Extend(*Builder) error        { return nil }

func TestPrintConfigFlag(t *testing.T) {
	path := writeTOML(t, "port = -1\n[greeter]\ntimes = 3\n")
	app, _ := newApp(t, Config{})
	app.Register(&greeter{})
	var out bytes.Buffer
	app.printOut = &out
	if err := app.ParseFlags([]string{"--config", path, "--print-config", "--greeter.greeting=yo"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--print-config: got %v, want flag.ErrHelp", err)
	}
	got := strings.ReplaceAll(out.String(), path, "app.toml")
	for _, want := range []string{
		"port = -1 # app.toml:1\n", `idle-timeout = "2m0s" # default` + "\n", "req-res-factory-maxitems = 128 # default\n",
		"\n[greeter]\n", `greeting = "yo" # flag --greeter.greeting` + "\n", "times = 3 # app.toml:3\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, got)
		}
	}
	// The printed config loads back.
	again := writeTestFile(t, "again.toml", out.String())
	app2, _ := newApp(t, Config{})
	g2 := &greeter{}
	app2.Register(g2)
	if err := app2.ParseFlags([]string{"--config", again}); err != nil {
		t.Fatalf("loading --print-config's output: %v", err)
	}
	if app2.Config().Port != -1 || g2.cfg.Greeting != "yo" || g2.cfg.Times != 3 {
		t.Fatalf("reloaded: port %d, greeter %+v", app2.Config().Port, g2.cfg)
	}
}

func TestHelpListsEnvNames(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.Register(&greeter{})
	var out bytes.Buffer
	app.Flags().SetOutput(&out)
	if err := app.ParseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  --config file\n", "  --port int\n      TCP port to listen on (-1: any free port) (default 8080; env GRAFT_PORT)\n",
		"  --greeter.greeting string\n      what GET /greet answers (default \"hello\"; env GRAFT_GREETER_GREETING)\n",
		"  --greeter.delay duration\n", "  --idle-timeout duration\n      keep-alive idle timeout (default 2m0s; env GRAFT_IDLE_TIMEOUT)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

// An extension registered after the command line was parsed would miss
// its settings: Start fails naming it.
func TestConfigSectionAfterParse(t *testing.T) {
	app, _ := newApp(t, Config{})
	if err := app.ParseFlags([]string{}); err != nil {
		t.Fatal(err)
	}
	app.Register(&greeter{})
	err := app.Start(t.Context())
	want := `graft: extension test.greeter: config: section "greeter" added after the config was loaded`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Start: %v\nwant it to contain %s", err, want)
	}
}
