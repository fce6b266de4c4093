package graft_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// lifeExt records its lifecycle calls in a shared log and fails the step
// named in failAt.
type lifeExt struct {
	id     string
	req    []string
	failAt string
	log    *[]string
	wait   time.Duration // Start blocks this long (or until its deadline)
	limit  time.Duration // LifecycleTimeout
}

func (e *lifeExt) ID() string         { return e.id }
func (e *lifeExt) Requires() []string { return e.req }
func (e *lifeExt) Extend(*graft.Builder) error {
	return e.step("extend")
}
func (e *lifeExt) step(name string) error {
	*e.log = append(*e.log, e.id+"."+name)
	if e.failAt == name {
		return errors.New(name + " failed")
	}
	return nil
}
func (e *lifeExt) Provision(context.Context) error { return e.step("provision") }
func (e *lifeExt) Validate() error                 { return e.step("validate") }
func (e *lifeExt) Start(ctx context.Context) error {
	if e.wait > 0 {
		select {
		case <-ctx.Done():
			*e.log = append(*e.log, e.id+".start-deadline")
			return ctx.Err()
		case <-time.After(e.wait):
		}
	}
	return e.step("start")
}
func (e *lifeExt) Stop(context.Context) error { return e.step("stop") }
func (e *lifeExt) Cleanup() error             { return e.step("cleanup") }
func (e *lifeExt) LifecycleTimeout() time.Duration {
	return e.limit
}

// TestLifecycleCleanupOnLaterFailure: every extension that provisioned
// gets its cleanup when a later step fails, in reverse order; those that
// started are stopped first. Before, a failing Provision or Validate left
// earlier extensions provisioned with no cleanup.
func TestLifecycleCleanupOnLaterFailure(t *testing.T) {
	for _, tc := range []struct {
		failAt string
		want   []string
	}{
		{"provision", []string{"a.extend", "b.extend", "a.provision", "b.provision", "a.cleanup"}},
		{"validate", []string{"a.extend", "b.extend", "a.provision", "b.provision", "a.validate", "b.validate", "b.cleanup", "a.cleanup"}},
		{"start", []string{"a.extend", "b.extend", "a.provision", "b.provision", "a.validate", "b.validate", "a.start", "b.start", "b.cleanup", "a.stop", "a.cleanup"}},
	} {
		t.Run(tc.failAt, func(t *testing.T) {
			var log []string
			app := graft.New(graft.Config{})
			app.Register(&lifeExt{id: "a", log: &log}, &lifeExt{id: "b", req: []string{"a"}, failAt: tc.failAt, log: &log})
			err := app.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), "extension b") {
				t.Fatalf("start error %v does not name extension b", err)
			}
			if !slices.Equal(log, tc.want) {
				t.Errorf("calls\n got %v\nwant %v", log, tc.want)
			}
		})
	}
	// A clean start and stop: stop, then cleanup, each in reverse order.
	var log []string
	app := graft.New(graft.Config{})
	app.Register(&lifeExt{id: "a", log: &log}, &lifeExt{id: "b", req: []string{"a"}, log: &log})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	log = nil
	app.Stop(context.Background())
	if want := []string{"b.stop", "b.cleanup", "a.stop", "a.cleanup"}; !slices.Equal(log, want) {
		t.Errorf("stop calls %v, want %v", log, want)
	}
}

// TestLifecycleDeadline: each lifecycle call gets a deadline.
func TestLifecycleDeadline(t *testing.T) {
	var log []string
	app := graft.New(graft.Config{})
	app.Register(&lifeExt{id: "slow", log: &log, wait: time.Minute, limit: 20 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- app.Start(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "slow") {
			t.Fatalf("start error %v, want the deadline naming the extension", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return within 10s: the lifecycle call had no deadline")
	}
}

// TestSameValueInTwoScopesRejected: one value registered on two sibling
// groups used to run Provision/Start/Stop twice on itself.
func TestSameValueInTwoScopesRejected(t *testing.T) {
	var log []string
	shared := &lifeExt{id: "shared", log: &log}
	app := graft.New(graft.Config{})
	app.Group("/a").Register(shared)
	app.Group("/b").Register(shared)
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "same value") || !strings.Contains(err.Error(), "group /a") || !strings.Contains(err.Error(), "group /b") {
		t.Fatalf("error %v", err)
	}
	if len(log) != 0 {
		t.Errorf("lifecycle ran: %v", log)
	}
	// Two values with the same ID on sibling groups are fine.
	log = nil
	app = graft.New(graft.Config{})
	app.Group("/a").Register(&lifeExt{id: "x", log: &log})
	app.Group("/b").Register(&lifeExt{id: "x", log: &log})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	app.Stop(context.Background())
}

// requestID is a configured extension others require.
type requestID struct{ Header string }

func (*requestID) ID() string                    { return "test.requestid" }
func (*requestID) Extend(b *graft.Builder) error { return nil }

// ridAccessLog requires requestID and reads its configuration.
type ridAccessLog struct {
	listed bool
	header string
}

func (*ridAccessLog) ID() string { return "test.accesslog" }
func (l *ridAccessLog) Requires() []string {
	if l.listed {
		return []string{"test.requestid"}
	}
	return nil
}
func (l *ridAccessLog) Extend(b *graft.Builder) error {
	rid, err := graft.Require[*requestID](b)
	if err != nil {
		return err
	}
	l.header = rid.Header
	return nil
}

func TestRequireGivesTheRequiredExtension(t *testing.T) {
	al := &ridAccessLog{listed: true}
	app := graft.New(graft.Config{})
	app.Register(graft.Pack("test.observability", &requestID{Header: "X-Trace"}, al))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if al.header != "X-Trace" {
		t.Errorf("access log read header %q", al.header)
	}
	infos := app.Extensions()
	byID := map[string]graft.ExtensionInfo{}
	for _, i := range infos {
		byID[i.ID] = i
	}
	if p := byID["test.observability"]; p.Kind != "pack" || !slices.Equal(p.Packs, []string{"test.requestid", "test.accesslog"}) || p.State != "started" {
		t.Errorf("pack listed as %+v", p)
	}
	if r := byID["test.accesslog"]; r.PackedBy != "test.observability" || r.Kind != "extension" || !slices.Equal(r.Requires, []string{"test.requestid"}) {
		t.Errorf("packed extension listed as %+v", r)
	}
	var listing strings.Builder
	if err := app.WriteExtensions(&listing); err != nil || !strings.HasPrefix(listing.String(), "KIND") || strings.Count(listing.String(), "\n") != 4 {
		t.Errorf("listing (%v):\n%s", err, listing.String())
	}
	if s := byID["test.observability"].String(); !strings.Contains(s, "pack") || !strings.Contains(s, "brings=test.requestid,test.accesslog") {
		t.Errorf("listing line %q", s)
	}

	for name, tc := range map[string]struct {
		exts []graft.Extension
		want string
	}{
		"not listed": {[]graft.Extension{&requestID{}, &ridAccessLog{}}, `does not list "test.requestid" in Requires()`},
		"missing":    {[]graft.Extension{&ridAccessLog{}}, "not registered"},
	} {
		app := graft.New(graft.Config{})
		app.Register(tc.exts...)
		if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test.accesslog") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// store is a router-level extension that publishes a resource for its
// scope at Start, as a database extension does.
type store struct {
	name string
	b    *graft.Builder
}

var storeValue = graft.NewScopeValue[*store]("test.store")

func (s *store) ID() string { return "test.store" }
func (s *store) Extend(b *graft.Builder) error {
	s.b = b
	return nil
}
func (s *store) Start(context.Context) error {
	storeValue.Set(s.b, s)
	return nil
}

func TestScopeValues(t *testing.T) {
	app := graft.New(graft.Config{})
	a, b := app.Group("/a"), app.Group("/b")
	a.Register(&store{name: "A"})
	b.Register(&store{name: "B"})
	h := func(c *graft.Ctx) error {
		s, ok := storeValue.Lookup(c)
		if !ok {
			return c.Text(200, "none")
		}
		return c.Text(200, s.name)
	}
	a.GET("/x", h)
	b.Group("/deep").GET("/x", h)
	app.GET("/x", h)
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for path, want := range map[string]string{"/a/x": "A", "/b/deep/x": "B", "/x": "none", "/nope": ""} {
		st, _, body := get(t, srv, "GET", path, nil)
		if want == "" {
			if st != 404 {
				t.Errorf("%s: %d", path, st)
			}
			continue
		}
		if st != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, st, body, want)
		}
	}
	for _, i := range app.Extensions() {
		if i.ID == "test.store" && !slices.Contains(i.Contributes, "scope value test.store") {
			t.Errorf("listing lacks the scope value: %+v", i)
		}
	}
}

// kitExt brings a plugin, a provider and a flag through the Builder.
type kitExt struct {
	flagVal *string
	applied *int
}

func (*kitExt) ID() string { return "test.kit" }
func (k *kitExt) DefineFlags(fs *flag.FlagSet) {
	k.flagVal = fs.String("kit-greeting", "hello", "greeting of the kit extension")
}
func (k *kitExt) Extend(b *graft.Builder) error {
	di.Value(b.Graph(), fmt.Sprintf("%s from the graph", *k.flagVal))
	b.Plugins(graft.NamedPlugin("kit", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, _ *graft.Signature) (graft.Endpoint, error) {
		*k.applied++
		return next, nil
	})))
	return nil
}

type kitIn struct {
	Greeting string `inject:""`
}

type kitOut struct{ Body string }

func TestBuilderReachesPluginsGraphAndFlags(t *testing.T) {
	applied := 0
	app := graft.New(graft.Config{})
	app.Register(&kitExt{applied: &applied})
	graft.Get(app, "/kit", func(_ context.Context, in *kitIn) (*kitOut, error) { return &kitOut{Body: in.Greeting}, nil })
	if err := app.ParseFlags([]string{"--kit-greeting", "hi"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	if st, _, body := get(t, srv, "GET", "/kit", nil); st != 200 || body != "hi from the graph" {
		t.Errorf("%d %q", st, body)
	}
	if applied != 1 {
		t.Errorf("the extension's plugin applied %d times", applied)
	}
	for _, i := range app.Extensions() {
		if i.ID == "test.kit" && (!slices.Contains(i.Contributes, "plugin kit") || !slices.Contains(i.Contributes, "flags")) {
			t.Errorf("listing %+v", i)
		}
	}
}
