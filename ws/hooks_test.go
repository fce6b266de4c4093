package ws

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
)

// hookExt is a third-party extension written against the public API only:
// it adds WebSocket open and close hooks with OnOpen and OnClose from its
// Extend, and a connection property its open hook sets.
type hookExt struct {
	id       string
	requires []string
	open     func(s *Socket)
	close    func(s *Socket, code StatusCode, reason string)
	props    []graft.AnyProperty
	nilClose bool // call OnClose with a nil hook
}

func (e *hookExt) ID() string         { return e.id }
func (e *hookExt) Requires() []string { return e.requires }
func (e *hookExt) Extend(b *graft.Builder) error {
	b.Property(e.props...)
	if e.open != nil {
		if err := OnOpen(b, e.open); err != nil {
			return err
		}
	}
	if e.close != nil || e.nilClose {
		return OnClose(b, e.close)
	}
	return nil
}

// eventLog records what ran, in order, from the connections' goroutines.
type eventLog struct {
	mu sync.Mutex
	ev []string
	ch chan string
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan string, 64)} }

func (l *eventLog) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.ev = append(l.ev, s)
	l.mu.Unlock()
	l.ch <- s
}

// take returns the events recorded so far and forgets them.
func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.ev
	l.ev = nil
	return ev
}

// waitFor receives events until want arrives, within the channel's
// deadline (wsRecv).
func (l *eventLog) waitFor(t *testing.T, want string) {
	t.Helper()
	for {
		if got := wsRecv(t, l.ch, "event "+want); got == want {
			return
		}
	}
}

var hookTag = graft.NewProperty[string]("test.ws.tag", nil)

// TestExtensionConnHooks: an extension's open hook runs before the
// route's Open and its close hook after the route's Close, for every
// WebSocket route of its scope only; the property its open hook sets is
// what the route's Message handler reads, and the next connection of the
// pooled object starts from the default again.
func TestExtensionConnHooks(t *testing.T) {
	log := newEventLog()
	var seq atomic.Int64
	tagger := &hookExt{
		id: "test.tagger", requires: []string{ExtensionID}, props: []graft.AnyProperty{hookTag},
		open: func(s *Socket) {
			log.add("tagger open %s before=%q", s.set.pattern, hookTag.Get(s))
			hookTag.Set(s, fmt.Sprintf("t%d", seq.Add(1)))
		},
		close: func(s *Socket, code StatusCode, reason string) {
			log.add("tagger close %s %d %s tag=%s", s.set.pattern, code, reason, hookTag.Get(s))
		},
	}
	chatOnly := &hookExt{
		id: "test.chatonly", requires: []string{ExtensionID},
		open:  func(s *Socket) { log.add("chat open %s", s.set.pattern) },
		close: func(s *Socket, code StatusCode, _ string) { log.add("chat close %s %d", s.set.pattern, code) },
	}
	behaviour := func(name string) Behavior[struct{}] {
		return Behavior[struct{}]{
			Open: func(c *Conn[struct{}]) { log.add("%s open tag=%s", name, hookTag.Get(c)) },
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				c.Send([]byte("tag="+hookTag.Get(c)), OpText, false)
			},
			Close: func(c *Conn[struct{}], code StatusCode, reason string) {
				log.add("%s close %d %s", name, code, reason)
			},
		}
	}
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{PoolMaxItems: 1}), tagger)
		chat := app.Group("/chat")
		chat.Register(chatOnly)
		Route(app, "/ws", behaviour("ws"))
		Route(app, "/chatter", behaviour("chatter"))
		Route(chat, "/room", behaviour("room"))
		// A sibling group with the same prefix is another scope: the
		// chat group's hooks do not reach it.
		Route(app.Group("/chat"), "/lobby", behaviour("lobby"))
	})

	for i, want := range []string{"t1", "t2", "t3"} {
		c := wsDial(t, app.Addr(), "/ws")
		c.writeFrame(wsTextFrame("who"))
		c.expectMessage(1, []byte("tag="+want))
		c.writeFrame(wsCloseFrame(1000, "bye"))
		log.waitFor(t, fmt.Sprintf("tagger close /ws 1000 bye tag=%s", want))
		wsWaitFor(t, "the connection to be released", func() bool { return HubOf(app).NumConns() == 0 })
		got := strings.Join(log.take(), "\n")
		wantEv := strings.Join([]string{
			`tagger open /ws before=""`,
			"ws open tag=" + want,
			"ws close 1000 bye",
			"tagger close /ws 1000 bye tag=" + want,
		}, "\n")
		if got != wantEv {
			t.Fatalf("connection %d: events\n%s\nwant\n%s", i+1, got, wantEv)
		}
	}

	// The group's extension reaches the group's route only, not an app
	// route whose path merely starts like the group's prefix; its close
	// hook runs before the app-wide one (reverse of the open order).
	c := wsDial(t, app.Addr(), "/chat/room")
	c.writeFrame(wsTextFrame("who"))
	c.expectMessage(1, []byte("tag=t4"))
	c.writeFrame(wsCloseFrame(4000, "done"))
	log.waitFor(t, "tagger close /chat/room 4000 done tag=t4")
	c = wsDial(t, app.Addr(), "/chatter")
	c.writeFrame(wsTextFrame("who"))
	c.expectMessage(1, []byte("tag=t5"))
	c.writeFrame(wsCloseFrame(1000, ""))
	log.waitFor(t, "tagger close /chatter 1000  tag=t5")
	got := strings.Join(log.take(), "\n")
	want := strings.Join([]string{
		`tagger open /chat/room before=""`,
		"chat open /chat/room",
		"room open tag=t4",
		"room close 4000 done",
		"chat close /chat/room 4000",
		"tagger close /chat/room 4000 done tag=t4",
		`tagger open /chatter before=""`,
		"chatter open tag=t5",
		"chatter close 1000 ",
		"tagger close /chatter 1000  tag=t5",
	}, "\n")
	if got != want {
		t.Fatalf("events\n%s\nwant\n%s", got, want)
	}
	c = wsDial(t, app.Addr(), "/chat/lobby")
	c.writeFrame(wsTextFrame("who"))
	c.expectMessage(1, []byte("tag=t6"))
	c.writeFrame(wsCloseFrame(1000, ""))
	log.waitFor(t, "tagger close /chat/lobby 1000  tag=t6")
	got = strings.Join(log.take(), "\n")
	want = strings.Join([]string{
		`tagger open /chat/lobby before=""`,
		"lobby open tag=t6",
		"lobby close 1000 ",
		"tagger close /chat/lobby 1000  tag=t6",
	}, "\n")
	if got != want {
		t.Fatalf("sibling group with the same prefix: events\n%s\nwant\n%s", got, want)
	}
}

// TestExtensionConnHookPanics: a panic in an open hook closes that
// connection with 1011, logged once naming the extension; the later open
// hooks and the route's Open are skipped, the Close handler and the close
// hooks run. A panicking close hook does not stop the next one.
func TestExtensionConnHookPanics(t *testing.T) {
	log := newEventLog()
	var logs syncBuffer
	boom := &hookExt{
		id: "test.boom", requires: []string{ExtensionID},
		open:  func(s *Socket) { panic("open hook failed") },
		close: func(s *Socket, code StatusCode, _ string) { log.add("boom close %d", code) },
	}
	after := &hookExt{
		id: "test.after", requires: []string{ExtensionID, "test.boom"},
		open:  func(s *Socket) { log.add("after open") },
		close: func(s *Socket, code StatusCode, _ string) { panic("close hook failed") },
	}
	app := wsTestApp(t, graft.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(app *graft.App[graft.Ctx]) {
		app.Register(boom, after)
		Route(app, "/ws", Behavior[struct{}]{
			Open:  func(c *Conn[struct{}]) { log.add("route open") },
			Close: func(c *Conn[struct{}], code StatusCode, reason string) { log.add("route close %d %s", code, reason) },
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.expectClose(StatusInternalError)
	log.waitFor(t, "boom close 1011")
	if got, want := strings.Join(log.take(), "\n"), "route close 1011 internal error\nboom close 1011"; got != want {
		t.Fatalf("events\n%s\nwant\n%s", got, want)
	}
	out := logs.String()
	if n := strings.Count(out, "panic in WebSocket"); n != 2 {
		t.Fatalf("%d panic log lines, want 2 (open hook, close hook):\n%s", n, out)
	}
	for _, want := range []string{"extension=test.boom", "open hook failed", "extension=test.after", "close hook failed", "route=/ws"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestExtensionConnHookSetupErrors: hooks from an extension that does not
// require the WebSocket extension, or nil hooks, stop start-up naming the
// extension and the fix.
func TestExtensionConnHookSetupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		ext  *hookExt
		want []string
	}{
		"no requires": {&hookExt{id: "test.norequire", open: func(*Socket) {}}, []string{"test.norequire", `"graft.ws"`, "Requires"}},
		"nil close":   {&hookExt{id: "test.nilclose", requires: []string{ExtensionID}, nilClose: true}, []string{"test.nilclose", "nil"}},
	} {
		t.Run(name, func(t *testing.T) {
			app := graft.New(graft.Config{Logger: wsQuietLogger()})
			app.Register(tc.ext)
			Route(app, "/ws", Behavior[struct{}]{})
			err := app.Start(context.Background())
			if err == nil {
				_ = app.Shutdown(context.Background())
				t.Fatal("start-up succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// wrapExt adds a message wrapper with WrapMessage from its Extend.
type wrapExt struct {
	id string
	mw func(pattern string, next MessageHandler) MessageHandler
}

func (e *wrapExt) ID() string                    { return e.id }
func (e *wrapExt) Requires() []string            { return []string{ExtensionID} }
func (e *wrapExt) Extend(b *graft.Builder) error { return WrapMessage(b, e.mw) }

// tracer is a wrapper that logs around every message it sees.
func tracer(log *eventLog, name string) func(pattern string, next MessageHandler) MessageHandler {
	return func(pattern string, next MessageHandler) MessageHandler {
		if pattern == "" {
			panic("no pattern")
		}
		return func(s *Socket, data []byte, op OpCode) {
			log.add("%s before %s %s %q", name, pattern, op, data)
			next(s, data, op)
			log.add("%s after %s", name, s.Route())
		}
	}
}

// TestWrapMessage: extensions' message wrappers run around the route's
// Message handler, the first extension outermost, on the routes of their
// scope only; a route without a Message handler still reaches them; a
// rate-limited message reaches none.
func TestWrapMessage(t *testing.T) {
	log := newEventLog()
	outer := &wrapExt{id: "test.outer", mw: tracer(log, "outer")}
	inner := &wrapExt{id: "test.inner", mw: tracer(log, "inner")}
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(outer)
		room := app.Group("/room")
		room.Register(inner)
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				log.add("message %s", data)
				c.Send(data, op, false)
			},
		})
		Route(room, "/{id}", Behavior[struct{}]{}) // no Message handler
		Route(app, "/limited", Behavior[struct{}]{MessageRate: 0.001, MessageBurst: 1,
			RateLimited: func(c *Conn[struct{}], data []byte, op OpCode) { log.add("limited %s", data) }})
	})

	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("hi"))
	c.expectMessage(1, []byte("hi"))
	log.waitFor(t, "outer after /ws")
	if got, want := strings.Join(log.take(), "\n"), "outer before /ws text \"hi\"\nmessage hi\nouter after /ws"; got != want {
		t.Fatalf("app route: events\n%s\nwant\n%s", got, want)
	}

	r := wsDial(t, app.Addr(), "/room/7")
	r.writeFrame(wsBinFrame([]byte{1, 2}))
	log.waitFor(t, "outer after /room/{id}")
	want := strings.Join([]string{
		`outer before /room/{id} binary "\x01\x02"`,
		`inner before /room/{id} binary "\x01\x02"`,
		"inner after /room/{id}",
		"outer after /room/{id}",
	}, "\n")
	if got := strings.Join(log.take(), "\n"); got != want {
		t.Fatalf("group route without Message: events\n%s\nwant\n%s", got, want)
	}

	l := wsDial(t, app.Addr(), "/limited")
	l.writeFrame(wsTextFrame("one"))
	log.waitFor(t, "outer after /limited")
	l.writeFrame(wsTextFrame("two"))
	log.waitFor(t, "limited two")
	if got, want := strings.Join(log.take(), "\n"), "outer before /limited text \"one\"\nouter after /limited\nlimited two"; got != want {
		t.Fatalf("rate-limited route: events\n%s\nwant\n%s", got, want)
	}
}

// TestWrapMessagePanic: a panic in a wrapper closes that connection with
// 1011 and is logged with the route.
func TestWrapMessagePanic(t *testing.T) {
	var logs syncBuffer
	boom := &wrapExt{id: "test.boom", mw: func(_ string, next MessageHandler) MessageHandler {
		return func(s *Socket, data []byte, op OpCode) { panic("wrapper failed") }
	}}
	app := wsTestApp(t, graft.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(app *graft.App[graft.Ctx]) {
		app.Register(boom)
		Route(app, "/ws", Behavior[struct{}]{})
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("x"))
	c.expectClose(StatusInternalError)
	for _, want := range []string{"wrapper failed", "route=/ws"} {
		if out := logs.String(); !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestWrapMessageSetupErrors: a nil wrapper, or one returning a nil
// handler, stops start-up naming the extension (and the route).
func TestWrapMessageSetupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		ext  *wrapExt
		want []string
	}{
		"nil wrapper": {&wrapExt{id: "test.nilwrap"}, []string{"ws.WrapMessage", "test.nilwrap", "nil"}},
		"nil handler": {&wrapExt{id: "test.nilnext", mw: func(string, MessageHandler) MessageHandler { return nil }}, []string{"route /ws", "test.nilnext", "nil handler"}},
	} {
		t.Run(name, func(t *testing.T) {
			app := graft.New(graft.Config{Logger: wsQuietLogger()})
			app.Register(tc.ext)
			Route(app, "/ws", Behavior[struct{}]{})
			err := app.Start(context.Background())
			if err == nil {
				_ = app.Shutdown(context.Background())
				t.Fatal("start-up succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			_ = app.Shutdown(context.Background())
		})
	}
}

// TestConnHooksListedInExtensions: the WebSocket hooks an extension adds
// through its Builder are listed with it by app.Extensions() and
// WriteExtensions, each once, beside what the Builder itself records.
func TestConnHooksListedInExtensions(t *testing.T) {
	noop := func(pattern string, next MessageHandler) MessageHandler { return next }
	tagger := &hookExt{
		id: "test.tagger", requires: []string{ExtensionID}, props: []graft.AnyProperty{hookTag},
		open:  func(*Socket) {},
		close: func(*Socket, StatusCode, string) {},
	}
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{}), tagger)
		app.Group("/room").Register(&wrapExt{id: "test.wrap", mw: noop})
		Route(app, "/ws", Behavior[struct{}]{})
	})
	want := map[string][]string{
		"test.tagger": {"property test.ws.tag", "ws open hook", "ws close hook"},
		"test.wrap":   {"ws message wrapper"},
	}
	seen := 0
	for _, info := range app.Extensions() {
		w, ok := want[info.ID]
		if !ok {
			continue
		}
		seen++
		if !slices.Equal(info.Contributes, w) {
			t.Errorf("%s contributes %q, want %q", info.ID, info.Contributes, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("app.Extensions() lists %d of the %d hook extensions: %+v", seen, len(want), app.Extensions())
	}
	var out strings.Builder
	if err := app.WriteExtensions(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"test.tagger", "test.wrap"} {
		var got string
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.Contains(l, " "+line+" ") {
				got = l
			}
		}
		for _, c := range want[line] {
			if !strings.Contains(got, c) {
				t.Errorf("WriteExtensions line of %s lacks %q: %q\n%s", line, c, got, out.String())
			}
		}
	}
}

type ctxKeyT struct{}

// TestSocketContext: the connection's Context carries the values of the
// upgrade request's context (here put there by app middleware) and is not
// cancelled when the upgrade request ends; the pooled Socket's next
// connection has its own.
func TestSocketContext(t *testing.T) {
	got := make(chan string, 4)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{PoolMaxItems: 1}))
		app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), ctxKeyT{}, c.Query("v")))
				return next(c)
			}
		})
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				v, _ := c.Context().Value(ctxKeyT{}).(string)
				got <- fmt.Sprintf("%s err=%v", v, c.Context().Err())
			},
		})
	})
	for _, v := range []string{"a", "b"} {
		c := wsDial(t, app.Addr(), "/ws?v="+v)
		c.writeFrame(wsTextFrame("x"))
		if g := wsRecv(t, got, "the message handler"); g != v+" err=<nil>" {
			t.Fatalf("Context: %s, want %s err=<nil>", g, v)
		}
		c.writeFrame(wsCloseFrame(1000, ""))
		c.expectClose(1000)
		wsWaitFor(t, "the connection to be released", func() bool { return HubOf(app).NumConns() == 0 })
	}
}
