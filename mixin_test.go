package graft_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
)

// counterMixin keeps per-request state and resets it.
type counterMixin struct {
	graft.Mixin
	n int
}

func (m *counterMixin) Bump() int {
	m.n++
	return m.n
}

func (m *counterMixin) ResetState() { m.n = 0 }

// authMixin is a mixin built from another mixin: the inner one sits one
// level down and must be bound too.
type authMixin struct {
	graft.Mixin
	counterMixin
}

func (a *authMixin) Who() string {
	return a.Ctx().Query("who") + "/" + a.counterMixin.Ctx().Request.Method
}

type helper struct {
	Inner counterMixin // a mixin in a named field
}

type deepCtx struct {
	graft.Ctx
	authMixin
	Help helper
}

// TestMixinsAtAnyDepth: mixins nested in mixins and in named fields are
// bound; before, only embedded mixins at the top were, and the rest were
// nil pointers at request time.
func TestMixinsAtAnyDepth(t *testing.T) {
	app := graft.NewWithContext[deepCtx](graft.Config{RequestPoolMaxItems: 1})
	app.GET("/", func(c *deepCtx) error {
		if c.Help.Inner.Ctx() != &c.Ctx {
			return fmt.Errorf("named-field mixin not bound")
		}
		return c.Text(200, fmt.Sprintf("%s %d %d", c.Who(), c.Bump(), c.Help.Inner.Bump()))
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	for range 3 {
		if st, _, body := get(t, srv, "GET", "/?who=ann", nil); st != 200 || body != "ann/GET 1 1" {
			t.Fatalf("got %d %q (state must reset between requests)", st, body)
		}
	}
}

type ptrMixinCtx struct {
	graft.Ctx
	Auth *authMixin
}

type sliceMixinCtx struct {
	graft.Ctx
	Extra struct{ List []counterMixin }
}

func TestUnbindableMixinsFailAtNew(t *testing.T) {
	for name, tc := range map[string]struct {
		mk   func()
		want string
	}{
		"pointer": {func() { graft.NewWithContext[ptrMixinCtx](graft.Config{}) }, "at Auth"},
		"slice":   {func() { graft.NewWithContext[sliceMixinCtx](graft.Config{}) }, "at Extra.List"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, "cannot be bound") || !strings.Contains(msg, tc.want) {
					t.Fatalf("message does not name the field: %s", msg)
				}
			}()
			tc.mk()
		})
	}
}

// greetExt is an extension with configuration its mixin reads.
type greetExt struct{ Word string }

func (*greetExt) ID() string                    { return "test.greet" }
func (*greetExt) Extend(b *graft.Builder) error { return nil }

type greetMixin struct {
	graft.MixinOf[*greetExt]
}

func (g *greetMixin) Greeting() string {
	if e := g.Extension(); e != nil {
		return e.Word + " " + g.Ctx().Query("name")
	}
	return "no greeting here"
}

type greetCtx struct {
	graft.Ctx
	greetMixin
}

// TestMixinOfNeedsItsExtension: a mixin that belongs to an extension fails
// start-up naming the field, the extension type and its id when the
// extension is not registered; before, such a mixin served nil resources.
func TestMixinOfNeedsItsExtension(t *testing.T) {
	app := graft.NewWithContext[greetCtx](graft.Config{})
	app.GET("/", func(c *greetCtx) error { return c.Text(200, c.Greeting()) })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started without the mixin's extension")
	}
	for _, want := range []string{"greetMixin", "*graft_test.greetExt", "test.greet", "app.Register"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
}

func TestMixinOfReachesItsExtension(t *testing.T) {
	app := graft.NewWithContext[greetCtx](graft.Config{})
	en, fr := app.Group("/en"), app.Group("/fr")
	en.Register(&greetExt{Word: "hello"})
	fr.Register(&greetExt{Word: "bonjour"})
	h := func(c *greetCtx) error { return c.Text(200, c.Greeting()) }
	en.GET("/", h)
	fr.GET("/", h)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for path, want := range map[string]string{"/en/?name=ann": "hello ann", "/fr/?name=ann": "bonjour ann"} {
		if st, _, body := get(t, srv, "GET", path, nil); st != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, st, body, want)
		}
	}
}

// TestMixinOfGroupOnly: registered on a group only, the mixin reaches the
// extension inside the group and gets the zero value outside it.
func TestMixinOfGroupOnly(t *testing.T) {
	app := graft.NewWithContext[greetCtx](graft.Config{})
	g := app.Group("/g")
	g.Register(&greetExt{Word: "hi"})
	h := func(c *greetCtx) error { return c.Text(200, c.Greeting()) }
	app.GET("/", h)
	g.GET("/", h)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for path, want := range map[string]string{"/?name=bo": "no greeting here", "/g/?name=bo": "hi bo"} {
		if st, _, body := get(t, srv, "GET", path, nil); st != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, st, body, want)
		}
	}
}
