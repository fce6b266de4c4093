package ws

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// limitApp serves /ws with b, whose Message echoes and runs "sub T",
// "unsub T" and "pub T text" commands, on a hub whose limiter clock is
// clock (nanoseconds the test advances).
func limitApp(t *testing.T, clock *atomic.Int64, b Behavior[struct{}]) *graft.App[graft.Ctx] {
	t.Helper()
	b.Message = func(c *Conn[struct{}], data []byte, op OpCode) {
		cmd, arg, _ := strings.Cut(string(data), " ")
		switch cmd {
		case "sub":
			ok, err := c.TrySubscribe(arg)
			if err != nil {
				c.Send([]byte("err "+err.Error()), OpText, false)
				return
			}
			if !ok {
				c.Send([]byte("already "+arg), OpText, false)
				return
			}
		case "unsub":
			c.Unsubscribe(arg)
		case "pub":
			topic, text, _ := strings.Cut(arg, " ")
			if err := c.Publish(topic, []byte(text), OpText); err != nil {
				if !errors.Is(err, ErrMessageTooLarge) {
					panic(err)
				}
				c.Send([]byte("toolarge "+err.Error()), OpText, false)
				return
			}
		}
		c.Send([]byte("ok "+string(data)), OpText, false)
	}
	return wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", b)
		if clock != nil {
			HubOf(app).clock = clock.Load
		}
	})
}

func (c *wsRawClient) expectText(want string) {
	c.t.Helper()
	c.expectMessage(1, []byte(want))
}

func TestWSRateLimitHook(t *testing.T) {
	var clock atomic.Int64
	limited := make(chan string, 10)
	app := limitApp(t, &clock, Behavior[struct{}]{
		MessageRate:  10, // one per 100ms
		MessageBurst: 3,
		RateLimited: func(c *Conn[struct{}], data []byte, op OpCode) {
			limited <- string(data)
			c.Send([]byte("limited "+string(data)), OpText, false)
		},
	})
	c := wsDial(t, app.Addr(), "/ws")
	// The burst passes at one instant.
	for _, m := range []string{"b1", "b2", "b3"} {
		c.writeFrame(wsTextFrame(m))
		c.expectText("ok " + m)
	}
	// One over: the hook gets it, Message does not, the connection stays.
	c.writeFrame(wsTextFrame("over1"))
	c.expectText("limited over1")
	if got := wsRecv(t, limited, "the RateLimited hook"); got != "over1" {
		t.Fatalf("RateLimited got %q, want over1", got)
	}
	// Steady rate exactly at the limit: one message per 100ms, 20 times.
	for i := range 20 {
		clock.Add(int64(100 * time.Millisecond))
		m := "s" + string(rune('a'+i))
		c.writeFrame(wsTextFrame(m))
		c.expectText("ok " + m)
	}
	// One more in the same instant is over.
	c.writeFrame(wsTextFrame("over2"))
	c.expectText("limited over2")
	// 99ms later is still over; 1ms more is allowed.
	clock.Add(int64(99 * time.Millisecond))
	c.writeFrame(wsTextFrame("over3"))
	c.expectText("limited over3")
	clock.Add(int64(time.Millisecond))
	c.writeFrame(wsTextFrame("after"))
	c.expectText("ok after")
	// A long pause refills the bucket to the burst, not beyond.
	clock.Add(int64(time.Hour))
	for _, m := range []string{"r1", "r2", "r3"} {
		c.writeFrame(wsTextFrame(m))
		c.expectText("ok " + m)
	}
	c.writeFrame(wsTextFrame("over4"))
	c.expectText("limited over4")
	// Pings are not counted.
	c.writeFrame(wsPingFrame("p"))
	if f := c.next(); f.op != 0xA || string(f.payload) != "p" {
		t.Fatalf("got op %d %q, want pong p", f.op, f.payload)
	}
}

func TestWSRateLimitClose(t *testing.T) {
	var clock atomic.Int64
	closed := make(chan string, 1)
	app := limitApp(t, &clock, Behavior[struct{}]{
		MessageRate:  2,
		MessageBurst: 2,
		Close: func(c *Conn[struct{}], code StatusCode, reason string) {
			closed <- code.String() + " " + reason
		},
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("a"))
	c.expectText("ok a")
	c.writeFrame(wsTextFrame("b"))
	c.expectText("ok b")
	c.writeFrame(wsTextFrame("c"))
	if _, reason := c.expectClose(StatusPolicyViolation); reason != "rate limited" {
		t.Fatalf("close reason %q, want %q", reason, "rate limited")
	}
	if got, want := wsRecv(t, closed, "the Close handler"), StatusPolicyViolation.String()+" rate limited"; got != want {
		t.Fatalf("Close handler got %q, want %q", got, want)
	}
}

// TestWSRateLimitDefaultBurst: without MessageBurst the bucket holds
// MessageRate messages, rounded up.
func TestWSRateLimitDefaultBurst(t *testing.T) {
	var clock atomic.Int64
	app := limitApp(t, &clock, Behavior[struct{}]{MessageRate: 2.5})
	c := wsDial(t, app.Addr(), "/ws")
	for _, m := range []string{"1", "2", "3"} {
		c.writeFrame(wsTextFrame(m))
		c.expectText("ok " + m)
	}
	c.writeFrame(wsTextFrame("4"))
	c.expectClose(StatusPolicyViolation)
}

// TestWSRateLimitPerConnection: each connection has its own bucket, and a
// pooled connection object starts its next life with a full one.
func TestWSRateLimitPerConnection(t *testing.T) {
	var clock atomic.Int64
	app := limitApp(t, &clock, Behavior[struct{}]{MessageRate: 1, MessageBurst: 1})
	a := wsDial(t, app.Addr(), "/ws")
	a.writeFrame(wsTextFrame("a"))
	a.expectText("ok a")
	b := wsDial(t, app.Addr(), "/ws")
	b.writeFrame(wsTextFrame("b"))
	b.expectText("ok b")
	a.writeFrame(wsTextFrame("a2"))
	a.expectClose(StatusPolicyViolation)
	wsWaitFor(t, "the closed connection to be released", func() bool { return HubOf(app).NumConns() == 1 })
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("c"))
	c.expectText("ok c")
}

func TestWSMaxTopics(t *testing.T) {
	app := limitApp(t, nil, Behavior[struct{}]{MaxTopics: 2})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("sub a"))
	c.expectText("ok sub a")
	c.writeFrame(wsTextFrame("sub b"))
	c.expectText("ok sub b")
	c.writeFrame(wsTextFrame("sub c"))
	c.expectText("err " + ErrTooManyTopics.Error())
	// Subscribing again to a topic it has is no error.
	c.writeFrame(wsTextFrame("sub a"))
	c.expectText("already a")
	c.writeFrame(wsTextFrame("unsub a"))
	c.expectText("ok unsub a")
	c.writeFrame(wsTextFrame("sub c"))
	c.expectText("ok sub c")
	c.writeFrame(wsTextFrame("sub d"))
	c.expectText("err " + ErrTooManyTopics.Error())
	if n := HubOf(app).NumSubscribers("d"); n != 0 {
		t.Fatalf("NumSubscribers(d) = %d after a refused subscribe, want 0", n)
	}
	// The limit is per connection.
	d := wsDial(t, app.Addr(), "/ws")
	d.writeFrame(wsTextFrame("sub d"))
	d.expectText("ok sub d")
}

func TestWSMaxPublishLength(t *testing.T) {
	app := limitApp(t, nil, Behavior[struct{}]{MaxPublishLength: 5})
	sub := wsDial(t, app.Addr(), "/ws")
	sub.writeFrame(wsTextFrame("sub t"))
	sub.expectText("ok sub t")
	pub := wsDial(t, app.Addr(), "/ws")
	pub.writeFrame(wsTextFrame("pub t 123456"))
	pub.expectText(`toolarge publish on "t": 6 bytes, limit 5: ` + ErrMessageTooLarge.Error())
	pub.writeFrame(wsTextFrame("pub t 12345"))
	pub.expectText("ok pub t 12345")
	// The subscriber's first message is the one within the limit.
	sub.expectText("12345")
	// The app's own publishes are not limited.
	if err := HubOf(app).Publish("t", []byte("longer than five"), OpText); err != nil {
		t.Fatal(err)
	}
	sub.expectText("longer than five")
}

// TestWSPublishLimits: a topic's PublishLimits rule (the first that
// matches) bounds what a connection publishes there, exactly at the limit
// passes and one byte more is refused; other topics fall back to
// MaxPublishLength.
func TestWSPublishLimits(t *testing.T) {
	app := limitApp(t, nil, Behavior[struct{}]{
		MaxPublishLength: 8,
		PublishLimits: []PublishLimit{
			{Pattern: "chat.*", MaxLength: 4},
			{Pattern: "chat*", MaxLength: 100}, // shadowed by the first for chat.x
			{Pattern: "files", MaxLength: 16},
		},
	})
	sub := wsDial(t, app.Addr(), "/ws")
	for _, topic := range []string{"chat.a.b", "files", "other"} {
		sub.writeFrame(wsTextFrame("sub " + topic))
		sub.expectText("ok sub " + topic)
	}
	pub := wsDial(t, app.Addr(), "/ws")
	for _, tc := range []struct {
		topic, rule string
		limit       int
	}{{"chat.a.b", "chat.*", 4}, {"files", "files", 16}, {"other", "", 8}} {
		at := strings.Repeat("x", tc.limit)
		pub.writeFrame(wsTextFrame("pub " + tc.topic + " " + at))
		pub.expectText("ok pub " + tc.topic + " " + at)
		sub.expectText(at)
		over := at + "y"
		pub.writeFrame(wsTextFrame("pub " + tc.topic + " " + over))
		want := fmt.Sprintf("toolarge publish on %q: %d bytes, limit %d (PublishLimits %q): %s", tc.topic, tc.limit+1, tc.limit, tc.rule, ErrMessageTooLarge)
		if tc.rule == "" {
			want = fmt.Sprintf("toolarge publish on %q: %d bytes, limit %d: %s", tc.topic, tc.limit+1, tc.limit, ErrMessageTooLarge)
		}
		pub.expectText(want)
	}
	// Nothing over a limit reached the subscriber: its next message is
	// this one.
	if err := HubOf(app).Publish("other", []byte("app publishes are not limited"), OpText); err != nil {
		t.Fatal(err)
	}
	sub.expectText("app publishes are not limited")
}

// TestWSPublishLimitClose: with CloseOnPublishLimit a publish over the
// topic's limit closes the connection with 1009 "publish too large";
// one exactly at it does not.
func TestWSPublishLimitClose(t *testing.T) {
	closed := make(chan string, 1)
	app := limitApp(t, nil, Behavior[struct{}]{
		PublishLimits:       []PublishLimit{{Pattern: "t", MaxLength: 3}},
		CloseOnPublishLimit: true,
		Close: func(c *Conn[struct{}], code StatusCode, reason string) {
			closed <- fmt.Sprint(uint16(code), " ", reason)
		},
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("pub t abc"))
	c.expectText("ok pub t abc")
	c.writeFrame(wsTextFrame("pub u no limit on u"))
	c.expectText("ok pub u no limit on u")
	// The close frame is queued by Publish itself, so the handler's
	// answer to the error is not sent after it.
	c.writeFrame(wsTextFrame("pub t abcd"))
	if _, reason := c.expectClose(StatusMessageTooBig); reason != "publish too large" {
		t.Fatalf("close reason %q, want %q", reason, "publish too large")
	}
	if got := wsRecv(t, closed, "the Close handler"); got != "1009 publish too large" {
		t.Fatalf("Close handler got %q, want 1009 publish too large", got)
	}
}

func TestWSLimitSetupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		b    Behavior[struct{}]
		want string
	}{
		"topics":       {Behavior[struct{}]{MaxTopics: -1}, "Behavior.MaxTopics is -1"},
		"publish":      {Behavior[struct{}]{MaxPublishLength: -1}, "Behavior.MaxPublishLength is -1"},
		"rate":         {Behavior[struct{}]{MessageRate: -1}, "Behavior.MessageRate is -1"},
		"burst":        {Behavior[struct{}]{MessageRate: 1, MessageBurst: -2}, "Behavior.MessageBurst is -2"},
		"burst only":   {Behavior[struct{}]{MessageBurst: 3}, "MessageBurst is set without MessageRate"},
		"hook only":    {Behavior[struct{}]{RateLimited: func(*Conn[struct{}], []byte, OpCode) {}}, "RateLimited is set without MessageRate"},
		"rule pattern": {Behavior[struct{}]{PublishLimits: []PublishLimit{{MaxLength: 3}}}, "Behavior.PublishLimits[0] has an empty Pattern"},
		"rule length":  {Behavior[struct{}]{PublishLimits: []PublishLimit{{Pattern: "a", MaxLength: 1}, {Pattern: "b*"}}}, `Behavior.PublishLimits[1] ("b*") has MaxLength 0`},
	} {
		t.Run(name, func(t *testing.T) {
			app := graft.New(graft.Config{Logger: wsQuietLogger()})
			defer func() {
				v := recover()
				msg, _ := v.(string)
				if !strings.Contains(msg, "/limits") || !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %v, want one naming /limits and %q", v, tc.want)
				}
			}()
			Route(app, "/limits", tc.b)
		})
	}
}

// TestWSRateLimitAllocs pins that the limiter allocates nothing per
// message, allowed or refused.
func TestWSRateLimitAllocs(t *testing.T) {
	set := &wsSettings{hub: &Hub{}, rate: newRateLimit(1e6, 10)}
	s := &Socket{set: set}
	if a := testing.AllocsPerRun(1000, func() { s.allowMessage() }); a != 0 {
		t.Fatalf("allowMessage allocates %v times per message, want 0", a)
	}
	var clock atomic.Int64
	s.hub().clock = clock.Load
	var allowed, refused int
	if a := testing.AllocsPerRun(1000, func() {
		if s.allowMessage() {
			allowed++
		} else {
			refused++
		}
	}); a != 0 {
		t.Fatalf("allowMessage allocates %v times per message at a fixed time, want 0", a)
	}
	if refused == 0 {
		t.Fatalf("no message refused at a fixed clock (%d allowed)", allowed)
	}
}

// BenchmarkWSRateLimit measures a message's trip through a real
// connection, echoed, with and without the limiter (a rate no client
// reaches); compare ns/op and allocs/op of the two.
func BenchmarkWSRateLimit(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"off", 0}, {"on", 1e12}} {
		b.Run(tc.name, func(b *testing.B) {
			app := wsTestApp(b, graft.Config{}, func(app *graft.App[graft.Ctx]) {
				Route(app, "/ws", Behavior[struct{}]{
					MessageRate: tc.rate,
					Message:     func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, false) },
				})
			})
			c := wsDial(b, app.Addr(), "/ws")
			frame := wsEncodeClientFrame(wsTextFrame("hello"))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.conn.Write(frame); err != nil {
					b.Fatal(err)
				}
				if f := c.next(); len(f.payload) != 5 {
					b.Fatalf("echo %q", f.payload)
				}
			}
		})
	}
}

func BenchmarkWSAllowMessage(b *testing.B) {
	s := &Socket{set: &wsSettings{hub: &Hub{}, rate: newRateLimit(1e12, 1)}}
	b.ReportAllocs()
	for b.Loop() {
		s.allowMessage()
	}
}
