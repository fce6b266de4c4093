package ws

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// The extension brings every WebSocket flag; parsed values land in its
// Config and reach the routes at start-up, and a Behavior value still
// wins over the app-wide one.
func TestExtensionFlags(t *testing.T) {
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	h := Extension(Config{MaxPayloadLength: 1000})
	app.Register(h)
	for _, f := range []string{"ws-max-size", "ws-idle-timeout", "ws-auto-ping", "ws-max-backpressure", "ws-close-on-backpressure-limit", "ws-per-message-deflate", "ws-max-lifetime", "ws-reset-idle-on-send", "broker-wait", "broker-optional", "ws-factory-maxitems"} {
		if app.Flags().Lookup(f) == nil {
			t.Errorf("no --%s flag", f)
		}
	}
	if f := app.Flags().Lookup("ws-max-size"); f.DefValue != "1000" {
		t.Errorf("--ws-max-size default %s, want the Config's 1000", f.DefValue)
	}
	if err := app.ParseFlags([]string{"--ws-max-size", "2000", "--ws-auto-ping=false", "--ws-factory-maxitems", "3", "--ws-idle-timeout", "5s"}); err != nil {
		t.Fatal(err)
	}
	plain := Route(app, "/plain", Behavior[struct{}]{})
	own := Route(app, "/own", Behavior[struct{}]{MaxPayloadLength: 10})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	if HubOf(app) != h {
		t.Fatal("HubOf does not return the registered extension")
	}
	if h.cfg.PoolMaxItems != 3 || !h.cfg.DisablePings || h.cfg.IdleTimeout != 5*time.Second {
		t.Fatalf("config after flags: %+v", h.cfg)
	}
	got := map[string]*wsSettings{}
	for _, r := range h.routes {
		got[r.settings().pattern] = r.settings()
	}
	if s := got[plain.Pattern()]; s.maxPayload != 2000 || s.pings || s.idle != 5*time.Second {
		t.Errorf("/plain settings %+v", *s)
	}
	if s := got[own.Pattern()]; s.maxPayload != 10 {
		t.Errorf("/own max payload %d, want the Behavior's 10", s.maxPayload)
	}
}

// Without a registered extension the first Route registers one with the
// defaults, flags included; a second app gets its own.
func TestRouteRegistersTheExtension(t *testing.T) {
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	if _, ok := graft.Registered[*Hub](app); ok {
		t.Fatal("a new app has a hub")
	}
	Route(app, "/ws", Behavior[struct{}]{})
	h, ok := graft.Registered[*Hub](app)
	if !ok {
		t.Fatal("Route did not register the extension")
	}
	if f := app.Flags().Lookup("ws-max-size"); f == nil || f.DefValue != "16384" {
		t.Fatalf("--ws-max-size after an implicit registration: %+v", f)
	}
	other := graft.New(graft.Config{Logger: wsQuietLogger()})
	Route(other, "/ws", Behavior[struct{}]{})
	if HubOf(other) == h {
		t.Fatal("two apps share a hub")
	}
	// An explicit registration after the implicit one is a start-up error
	// naming the extension.
	app.Register(Extension(Config{}))
	if err := app.Start(t.Context()); err == nil {
		app.Stop(t.Context())
		t.Fatal("a second ws extension was accepted")
	} else if want := ExtensionID; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}

// An app that never had WebSocket support has no hub once started:
// publishing reaches nobody and counts are zero.
func TestPublishWithoutHub(t *testing.T) {
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	if h := HubOf(app); h != nil {
		t.Fatal("HubOf made a hub after start")
	}
	if err := Publish(app, "t", []byte("x"), OpText); err != nil {
		t.Fatal(err)
	}
	if err := Publish(app, "t", nil, OpCode(9)); err == nil {
		t.Fatal("a bad opcode was accepted")
	}
	if n := NumSubscribers(app, "t"); n != 0 {
		t.Fatal(n)
	}
}

// StatusCode names its constants and numbers the others.
func TestStatusCodeString(t *testing.T) {
	for code, want := range map[StatusCode]string{StatusGoingAway: "StatusGoingAway", StatusMessageTooBig: "StatusMessageTooBig", 4000: "StatusCode(4000)"} {
		if got := code.String(); got != want {
			t.Errorf("%d: %q, want %q", uint16(code), got, want)
		}
	}
}

// The extension's Config is the [ws] config section: the TOML file, the
// GRAFT_WS_… environment and the dotted --ws.… flags fill it, in that
// order of precedence, over the Config given to Extension.
func TestExtensionConfigSection(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.toml")
	content := "[ws]\nmax-size = 3000\nidle-timeout = \"7s\"\nbroker-wait = \"2s\"\nfactory-maxitems = 9\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GRAFT_WS_IDLE_TIMEOUT", "8s")
	t.Setenv("GRAFT_WS_PER_MESSAGE_DEFLATE", "true")
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	h := Extension(Config{MaxPayloadLength: 1000, MaxLifetime: time.Hour})
	app.Register(h)
	if err := app.ParseFlags([]string{"--config", file, "--ws.broker-wait=3s", "--ws-auto-ping=false"}); err != nil {
		t.Fatal(err)
	}
	c := h.cfg
	if c.MaxPayloadLength != 3000 || c.IdleTimeout != 8*time.Second || c.BrokerWait != 3*time.Second || c.PoolMaxItems != 9 ||
		!c.PerMessageDeflate || c.MaxLifetime != time.Hour || !c.DisablePings {
		t.Fatalf("config: %+v", c)
	}
	l := app.ConfigLoader()
	for key, want := range map[string]string{
		"ws.max-size": file + ":2", "ws.idle-timeout": "env GRAFT_WS_IDLE_TIMEOUT", "ws.broker-wait": "flag --ws.broker-wait", "ws.max-lifetime": "default",
	} {
		if got := l.Source(key); got != want {
			t.Errorf("source of %s: %q, want %q", key, got, want)
		}
	}
	// A typo names the file's line and the key it meant.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[ws]\nmax-sise = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app2 := graft.New(graft.Config{Logger: wsQuietLogger()})
	app2.Register(Extension(Config{}))
	err := app2.ParseFlags([]string{"--config", bad})
	want := `config: ` + bad + `:2: key "ws.max-sise" = "1": unknown key (did you mean "ws.max-size"?); see --help for the keys`
	if err == nil || err.Error() != want {
		t.Fatalf("typo: %v\nwant %s", err, want)
	}
}

// DisablePings is a config key like the others (issue 13: --help lists
// every flag with its env name): the file's ws.disable-pings and
// GRAFT_WS_DISABLE_PINGS set it, --ws-auto-ping=false still does, and
// --help lists both spellings with the env name. It used to be a plain
// flag with neither a file key nor an env name.
func TestDisablePingsIsAKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.toml")
	if err := os.WriteFile(file, []byte("[ws]\ndisable-pings = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env, args []string
		want      bool
		source    string
	}{
		{args: []string{"--config", file}, want: true, source: file + ":2"},
		{env: []string{"GRAFT_WS_DISABLE_PINGS", "true"}, want: true, source: "env GRAFT_WS_DISABLE_PINGS"},
		{args: []string{"--ws-auto-ping=false"}, want: true, source: "flag --ws-auto-ping"},
		{args: []string{"--config", file, "--ws-auto-ping"}, want: false, source: "flag --ws-auto-ping"},
		{args: []string{"--ws.disable-pings"}, want: true, source: "flag --ws.disable-pings"},
	}
	for _, tc := range cases {
		if tc.env != nil {
			t.Setenv(tc.env[0], tc.env[1])
		}
		app := graft.New(graft.Config{Logger: wsQuietLogger()})
		h := Extension(Config{})
		app.Register(h)
		if err := app.ParseFlags(append([]string{}, tc.args...)); err != nil {
			t.Fatalf("%v %v: %v", tc.env, tc.args, err)
		}
		if h.cfg.DisablePings != tc.want || app.ConfigLoader().Source("ws.disable-pings") != tc.source {
			t.Errorf("%v %v: DisablePings %v from %q, want %v from %q", tc.env, tc.args, h.cfg.DisablePings, app.ConfigLoader().Source("ws.disable-pings"), tc.want, tc.source)
		}
		if tc.env != nil {
			os.Unsetenv(tc.env[0])
		}
	}
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	app.Register(Extension(Config{}))
	var out strings.Builder
	app.Flags().SetOutput(&out)
	_ = app.ParseFlags([]string{"--help"})
	want := "  --ws.disable-pings, --ws-auto-ping=false\n      stop the automatic pings to idle WebSockets (--ws-auto-ping=false, the older spelling, does the same) (default false; env GRAFT_WS_DISABLE_PINGS)\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("--help lacks %q:\n%s", want, out.String())
	}
}
