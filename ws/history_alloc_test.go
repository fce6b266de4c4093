package ws

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// TestIsJSON checks isJSON against json.Valid.
func TestIsJSON(t *testing.T) {
	for _, s := range []string{
		``, ` `, `x`, `hello`, `{"a":1}`, ` [1,2] `, "\n\"s\"\t", `-1`, `0`, `9e3`, `true`, `false`, `null`,
		`nul`, `nulls`, `true false`, ` true `, `{`, `{"a":}`, `tru`, `+1`, `.5`, `'a'`, "\x00", `Ñ`,
		`01`, `-`, `-0`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `0.0e0`, `1x`, `12 34`, `- 1`, `"unterminated`,
		`nice weather`, `thanks!`, `5 apples`, `fine`, strings.Repeat("x", 32), `"a\u00e9"`, `[1,]`,
	} {
		if got, want := isJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("isJSON(%q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// TestAppendPubAllocs pins that framing a publication allocates nothing
// beyond its buffer, for text that is JSON and text that is not (text
// that starts like an object, an array or a string and is not one still
// costs json.Valid's error).
func TestAppendPubAllocs(t *testing.T) {
	pos := Position{Offset: 7, Epoch: "abc"}
	for _, data := range []string{strings.Repeat("x", 32), `{"n":1}`, `nice weather`, `thanks`, `5 apples`, `false`, `-1.5e3`} {
		buf := make([]byte, 0, 512)
		if a := testing.AllocsPerRun(100, func() { buf = appendPub(buf[:0], "chat.room", pos, []byte(data), OpText) }); a != 0 {
			t.Errorf("appendPub(%q) allocates %v times", data, a)
		}
	}
}

// TestHistoryPublishAllocs pins what a publication costs with the topic's
// history on (memory backend) against off, with one subscriber: the
// stored copy only.
func TestHistoryPublishAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	hub := Extension(Config{History: broker.HistoryPolicies{{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 100}}}, IdleTimeout: -1})
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(hub)
		Route(app, "/ws", Behavior[struct{}]{
			Open: func(c *Conn[struct{}]) {
				c.Subscribe("plain.a")
				c.Subscribe("chat.a")
			},
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(io.Discard, c.br)
	}()
	t.Cleanup(func() {
		c.conn.Close()
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
			t.Error("the client's reader did not stop within 5s")
		}
	})
	wsWaitFor(t, "the subscriptions", func() bool { return hub.NumSubscribers("chat.a") == 1 && hub.NumSubscribers("plain.a") == 1 })
	msg := []byte(strings.Repeat("x", 32))
	count := func(topic string) float64 {
		return testing.AllocsPerRun(200, func() {
			if err := hub.Publish(topic, msg, OpText); err != nil {
				t.Fatal(err)
			}
		})
	}
	off, on := count("plain.a"), count("chat.a")
	if on > off+1 {
		t.Fatalf("a publication allocates %v times with history, %v without: more than the stored copy", on, off)
	}
}

// FuzzIsJSON checks isJSON against json.Valid on any input.
func FuzzIsJSON(f *testing.F) {
	for _, s := range []string{`true`, `-0.5e+3`, `{"a":[1]}`, `nice`, ` 7 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := isJSON(b), json.Valid(b); got != want {
			t.Fatalf("isJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
