package ws

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"

	"github.com/graftgo/graft"
)

// With the bus gone, Publish still delivers locally and says so with a
// distinct error: a *BusError matching ErrLocalOnly, not the broker's bare
// error that a caller could only treat as "nothing was sent".
func TestWSPublishLocalOnlyWhenTheBusFails(t *testing.T) {
	node := broker.NewMemoryBus().Node()
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{Broker: node}))
		wsCommandRoute(app, nil)
	})
	a := wsDial(t, app.Addr(), "/ws")
	b := wsDial(t, app.Addr(), "/ws")
	a.do("sub news")
	b.do("sub news")
	if err := HubOf(app).Publish("news", []byte("bus up"), OpText); err != nil {
		t.Fatal(err)
	}
	a.expectMessage(1, []byte("bus up"))
	b.expectMessage(1, []byte("bus up"))

	node.Close() // the bus fails: every Publish on it now errs
	err := HubOf(app).Publish("news", []byte("bus down"), OpText)
	var be *BusError
	if !errors.Is(err, ErrLocalOnly) || !errors.As(err, &be) || be.Topic != "news" || !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Publish with the bus closed = %v, want a *BusError for news matching ErrLocalOnly and wrapping broker.ErrClosed", err)
	}
	a.expectMessage(1, []byte("bus down"))
	b.expectMessage(1, []byte("bus down"))
	// Not a BusError: nothing was delivered.
	if err := HubOf(app).Publish("news", nil, OpCode(9)); err == nil || errors.Is(err, ErrLocalOnly) {
		t.Fatalf("Publish with a bad opcode = %v", err)
	}
}

// flakyBus is a node of a real in-memory bus whose first Subscribe calls
// fail, as a third-party broker's might while its server is unreachable.
type flakyBus struct {
	*broker.MemoryNode
	mu    sync.Mutex
	fails int // Subscribe calls left to fail
	calls int
}

func (f *flakyBus) Subscribe(topic string) error {
	f.mu.Lock()
	f.calls++
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("bus unreachable")
	}
	return f.MemoryNode.Subscribe(topic)
}

// A failed bus subscription is retried with backoff until it holds (it was
// only logged, and the topic stayed deaf to other nodes until its next
// first subscriber).
func TestWSBusSubscribeRetried(t *testing.T) {
	defer func(b, m time.Duration) { busRetryBase, busRetryMax = b, m }(busRetryBase, busRetryMax)
	busRetryBase, busRetryMax = 10*time.Millisecond, 40*time.Millisecond
	bus := broker.NewMemoryBus()
	flaky := &flakyBus{MemoryNode: bus.Node(), fails: 3}
	var logs syncBuffer
	appA := wsTestApp(t, graft.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{Broker: flaky}))
		wsCommandRoute(app, nil)
	})
	appB := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{Broker: bus.Node()}))
		wsCommandRoute(app, nil)
	})
	a := wsDial(t, appA.Addr(), "/ws")
	a.do("sub news")
	wsWaitFor(t, "the bus subscription to be retried until it held", func() bool {
		flaky.mu.Lock()
		defer flaky.mu.Unlock()
		return flaky.calls == 4
	})
	if err := HubOf(appB).Publish("news", []byte("from B"), OpText); err != nil {
		t.Fatal(err)
	}
	a.expectMessage(1, []byte("from B"))
	for _, want := range []string{"subscribing on the broker failed; retrying", "broker subscription restored"} {
		wsWaitFor(t, "the log line "+want, func() bool { return strings.Contains(logs.String(), want) })
	}
}

// --broker-wait and --broker-optional set Config.BrokerWait (default
// DefaultBrokerWait) and BrokerOptional.
func TestBrokerWaitFlag(t *testing.T) {
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	app.Register(Extension(Config{}))
	if f := app.Flags().Lookup("broker-wait"); f == nil || f.DefValue != DefaultBrokerWait.String() {
		t.Fatalf("--broker-wait flag: %+v", f)
	}
	if err := app.ParseFlags([]string{"--broker-wait", "250ms", "--broker-optional"}); err != nil {
		t.Fatal(err)
	}
	if got := HubOf(app).cfg; got.BrokerWait != 250*time.Millisecond || !got.BrokerOptional {
		t.Fatalf("BrokerWait = %v, BrokerOptional = %v", got.BrokerWait, got.BrokerOptional)
	}
}
