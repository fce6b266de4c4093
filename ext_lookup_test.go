package graft_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft"
)

// onceExt is an extension a package registers implicitly (RegisterOnce):
// it defines a flag, records its lifecycle and registers a shutdown step.
type onceExt struct {
	limit int
	log   []string
}

func (e *onceExt) ID() string { return "test.once" }
func (e *onceExt) DefineFlags(fs *flag.FlagSet) {
	fs.IntVar(&e.limit, "once-limit", 7, "a limit")
}
func (e *onceExt) Extend(b *graft.Builder) error {
	e.log = append(e.log, "extend")
	b.OnShutdown(func(context.Context) { e.log = append(e.log, "shutdown") })
	return nil
}
func (e *onceExt) Start(context.Context) error { e.log = append(e.log, "start"); return nil }
func (e *onceExt) Stop(context.Context) error  { e.log = append(e.log, "stop"); return nil }

// RegisterOnce registers the extension on the app even after routes (where
// Register refuses), defines its flags at once, returns the same value on
// later calls and from Registered, and refuses once the app started;
// Builder.OnShutdown runs before the extension's Stop.
func TestRegisterOnceAndRegistered(t *testing.T) {
	app := graft.New(graft.Config{})
	if _, ok := graft.Registered[*onceExt](app); ok {
		t.Fatal("Registered found an extension on a new app")
	}
	app.GET("/", func(c *graft.Ctx) error { return nil })
	g := app.Group("/g")
	calls := 0
	mk := func() *onceExt { calls++; return &onceExt{} }
	e := graft.RegisterOnce(g, mk)
	if again := graft.RegisterOnce(app, mk); again != e || calls != 1 {
		t.Fatalf("second RegisterOnce made another extension (%d calls)", calls)
	}
	if got, ok := graft.Registered[*onceExt](g); !ok || got != e {
		t.Fatalf("Registered on the group = %v, %v", got, ok)
	}
	if f := app.Flags().Lookup("once-limit"); f == nil || f.DefValue != "7" {
		t.Fatalf("flag of the implicitly registered extension: %+v", f)
	}
	if err := app.ParseFlags([]string{"--once-limit", "9"}); err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.limit != 9 {
		t.Fatalf("limit = %d, want the parsed 9", e.limit)
	}
	func() {
		defer func() {
			if msg := fmt.Sprint(recover()); !strings.Contains(msg, "after the app started") {
				t.Fatalf("RegisterOnce after start: %q", msg)
			}
		}()
		graft.RegisterOnce(app, func() *onceSecond { return &onceSecond{} })
	}()
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"extend", "start", "shutdown", "stop"}; !slices.Equal(e.log, want) {
		t.Fatalf("lifecycle %v, want %v", e.log, want)
	}
	var names []string
	for _, info := range app.Extensions() {
		names = append(names, info.ID)
	}
	if !slices.Contains(names, "test.once") {
		t.Fatalf("extensions listed: %v", names)
	}
}

type onceSecond struct{}

func (*onceSecond) ID() string                  { return "test.once2" }
func (*onceSecond) Extend(*graft.Builder) error { return nil }

// A package's own pooled object is a Holder through a Props field: Init
// when made, Reset when released, and properties start over.
type pooledThing struct{ props graft.Props }

func (p *pooledThing) Properties() *graft.Props { return &p.props }

var thingCount = graft.NewProperty("thing-count", func() int { return 40 })

func TestPropsOnAPackagesOwnHolder(t *testing.T) {
	th := &pooledThing{}
	th.props.Init()
	if got := thingCount.Get(th); got != 40 {
		t.Fatalf("default %d", got)
	}
	thingCount.Set(th, 41)
	if got := thingCount.Get(th); got != 41 {
		t.Fatalf("after Set: %d", got)
	}
	th.props.Reset()
	if thingCount.IsSet(th) {
		t.Fatal("the property is still set after Reset")
	}
	if got := thingCount.Get(th); got != 40 {
		t.Fatalf("after Reset: %d, want the default again", got)
	}
}
