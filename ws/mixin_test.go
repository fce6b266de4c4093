package ws_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
)

type connA struct{ ws.ConnMixin }

func (connA) Hello() string { return "a" }

type connB struct{ ws.ConnMixin }

func (connB) Hello() string { return "b" }

type clashingSession struct {
	connA
	connB
	Name string
}

type ptrSession struct {
	M *connA
}

// TestConnMixinSetupErrors: connection mixins get the clash check request
// mixins have, and a connection mixin that cannot be bound is rejected.
func TestConnMixinSetupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		mk   func(app *graft.App[graft.Ctx])
		want string
	}{
		"clash":   {func(app *graft.App[graft.Ctx]) { ws.Route(app, "/ws", ws.Behavior[clashingSession]{}) }, "ambiguous methods Hello"},
		"pointer": {func(app *graft.App[graft.Ctx]) { ws.Route(app, "/ws", ws.Behavior[ptrSession]{}) }, "at M"},
	} {
		t.Run(name, func(t *testing.T) {
			app := graft.New(graft.Config{})
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "/ws") {
					t.Fatalf("unclear message: %s", msg)
				}
			}()
			tc.mk(app)
		})
	}
}
