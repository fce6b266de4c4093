package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

func TestWSNeedsAToken(t *testing.T) {
	n := start(t, memDB(t)...)
	for _, q := range []string{"", "?token=", "?token=x.y.z"} {
		_, res, err := gws.NewClient(&gws.BuiltinEventHandler{}, &gws.ClientOption{Addr: "ws://" + n.addr + "/ws" + q})
		if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
			code := 0
			if res != nil {
				code = res.StatusCode
			}
			t.Errorf("/ws%s: %d (%v), want 401", q, code, err)
		}
		if res != nil {
			res.Body.Close()
		}
	}
}

// Join, presence, say, typing and leave between two members.
func TestRoom(t *testing.T) {
	n := start(t, memDB(t)...)
	alice := connect(t, n, "alice", signup(t, n, "alice"))
	bob := connect(t, n, "bob", signup(t, n, "bob"))

	alice.send(t, JoinIn{Type: "join", Room: "lobby"})
	j := alice.expect(t, "joined")
	if j.Room != "lobby" || j.Epoch == "" || j.Offset != 0 || fmt.Sprint(j.Members) != "[alice]" {
		t.Fatalf("alice joined %+v", j)
	}
	bob.send(t, JoinIn{Type: "join", Room: "lobby"})
	if j := bob.expect(t, "joined"); fmt.Sprint(j.Members) != "[alice bob]" || j.Epoch == "" {
		t.Fatalf("bob joined %+v, want members alice and bob", j)
	}
	if p := alice.expect(t, "presence"); p.Room != "lobby" || p.User != "bob" || p.Event != "join" {
		t.Fatalf("alice's presence %+v", p)
	}

	bob.send(t, SayIn{Type: "say", Room: "lobby", Text: "hi"})
	var first wire
	for _, c := range []*client{alice, bob} { // the sender too
		m := c.expect(t, "message")
		if m.Room != "lobby" || m.From != "bob" || m.Text != "hi" || m.ID == 0 || m.Offset != 1 {
			t.Fatalf("%s got %+v", c.name, m)
		}
		if _, err := time.Parse(time.RFC3339, m.TS); err != nil {
			t.Errorf("ts %q is not RFC 3339", m.TS)
		}
		first = m
	}
	// Stored before it is published: the list has it.
	code, b, _ := call(t, "GET", n.url("/rooms/lobby/messages"), nil, "Authorization: Bearer "+signupLogin(t, n, "alice"))
	if code != http.StatusOK || !strings.Contains(string(b), fmt.Sprintf(`"id":%d`, first.ID)) {
		t.Errorf("stored messages %d %s", code, b)
	}

	alice.send(t, TypingIn{Type: "typing", Room: "lobby"})
	if ty := bob.expect(t, "typing"); ty.User != "alice" || ty.Room != "lobby" {
		t.Errorf("bob's typing %+v", ty)
	}
	alice.quiet(t, 200*time.Millisecond) // not to the typist, never stored

	code, b, _ = call(t, "GET", n.url("/rooms"), nil)
	if code != http.StatusOK || strings.TrimSpace(string(b)) != `[{"name":"lobby","members":2}]` {
		t.Errorf("GET /rooms: %d %s", code, b)
	}

	bob.send(t, LeaveIn{Type: "leave", Room: "lobby"})
	if l := bob.expect(t, "left"); l.Room != "lobby" {
		t.Errorf("left %+v", l)
	}
	if p := alice.expect(t, "presence"); p.User != "bob" || p.Event != "leave" {
		t.Errorf("alice's presence %+v, want bob leaving", p)
	}
	bob.send(t, SayIn{Type: "say", Room: "lobby", Text: "gone"})
	if e := bob.expect(t, "error"); !strings.Contains(e.Error, "join") {
		t.Errorf("say after leave: %+v", e)
	}
	alice.quiet(t, 200*time.Millisecond)
}

// signupLogin logs in a user made by signup.
func signupLogin(t *testing.T, n *node, name string) string {
	t.Helper()
	code, b, _ := call(t, "POST", n.url("/login"), Credentials{Username: name, Password: "password-" + name})
	var out TokenOut
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("login %s: %d %s", name, code, b)
	}
	return out.Token
}

// Private messages reach every connection of the recipient, every time,
// in order.
func TestPM(t *testing.T) {
	n := start(t, memDB(t)...)
	alice := connect(t, n, "alice", signup(t, n, "alice"))
	btok := signup(t, n, "bob")
	bob1, bob2 := connect(t, n, "bob", btok), connect(t, n, "bob", btok)
	waitFor(t, "bob's connections on his topic", func() bool { return ws.HubOf(n.app).NumSubscribers("user.bob") == 2 })
	const pms = messageBurst - 2 // the last message below stays within the burst
	for i := 1; i <= pms; i++ {
		alice.send(t, PMIn{Type: "pm", To: "bob", Message: fmt.Sprint("hello ", i)})
	}
	for _, b := range []*client{bob1, bob2} {
		for i := 1; i <= pms; i++ {
			if m := b.expect(t, "pm"); m.From != "alice" || m.Message != fmt.Sprint("hello ", i) {
				t.Fatalf("bob's pm %d: %+v", i, m)
			}
		}
	}
	alice.send(t, PMIn{Type: "pm", To: "nobody", Message: "x"})
	if e := alice.expect(t, "error"); !strings.Contains(e.Error, "nobody") {
		t.Errorf("pm to an unknown user: %+v", e)
	}
}

// A client that drops and resumes gets every message it missed, in order,
// exactly once, then resumed; from another epoch it is told to reload.
func TestResume(t *testing.T) {
	n := start(t, memDB(t)...)
	atok := signup(t, n, "alice")
	alice := connect(t, n, "alice", atok)
	bob := connect(t, n, "bob", signup(t, n, "bob"))
	for _, c := range []*client{alice, bob} {
		c.send(t, JoinIn{Type: "join", Room: "r"})
		c.skip(t, "joined")
	}
	bob.send(t, SayIn{Type: "say", Room: "r", Text: "before"})
	bob.skip(t, "message")
	last := alice.skip(t, "message")
	epoch := alice.epochOf(t, n)
	alice.drop()
	for i := 1; i <= 5; i++ {
		bob.send(t, SayIn{Type: "say", Room: "r", Text: fmt.Sprint("missed ", i)})
	}
	for i := 1; i <= 5; i++ { // published: bob got his own
		bob.skip(t, "message")
	}
	alice = connect(t, n, "alice", atok)
	alice.send(t, ResumeIn{Type: "resume", Room: "r", Epoch: epoch, Offset: last.Offset})
	for i := 1; i <= 5; i++ {
		m := alice.expect(t, "message")
		if m.Text != fmt.Sprint("missed ", i) || m.Offset != last.Offset+uint64(i) {
			t.Fatalf("recovered %d: %+v", i, m)
		}
	}
	alice.expect(t, "resumed")
	bob.send(t, SayIn{Type: "say", Room: "r", Text: "live"})
	if m := alice.skip(t, "message"); m.Text != "live" || m.Offset != last.Offset+6 {
		t.Fatalf("after resuming: %+v", m)
	}

	other := connect(t, n, "alice", atok)
	other.send(t, ResumeIn{Type: "resume", Room: "r", Epoch: "another-epoch", Offset: 3})
	if r := other.expect(t, "reload"); r.Room != "r" || r.Epoch != epoch {
		t.Fatalf("resume from another epoch: %+v", r)
	}
}

// epochOf joins room r on a fresh connection to read the room's epoch.
func (c *client) epochOf(t *testing.T, n *node) string {
	t.Helper()
	probe := connect(t, n, c.name, signupLogin(t, n, c.name))
	probe.send(t, JoinIn{Type: "join", Room: "r"})
	e := probe.skip(t, "joined").Epoch
	probe.drop()
	return e
}

// Bad input: an error message and the connection stays open; too big a
// frame closes with 1009, invalid UTF-8 with 1007, a flood with 1008 after
// "rate limited" errors.
func TestWSBadInput(t *testing.T) {
	n := start(t, memDB(t)...)
	tok := signup(t, n, "alice")
	c := connect(t, n, "alice", tok)
	for _, raw := range []string{`{"type":`, `[1,2]`, `{"type":"dance"}`, `{"type":"join","room":"Bad Room"}`, `{"type":"say","room":"lobby","text":"x"}`} {
		if err := c.conn.WriteMessage(gws.OpcodeText, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if e := c.expect(t, "error"); e.Error == "" {
			t.Errorf("%s: empty error", raw)
		}
	}
	c.send(t, JoinIn{Type: "join", Room: "lobby"}) // still open
	c.expect(t, "joined")
	c.send(t, SayIn{Type: "say", Room: "lobby", Text: strings.Repeat("x", 2001)})
	c.expect(t, "error")

	big := connect(t, n, "alice", tok)
	if err := big.conn.WriteMessage(gws.OpcodeText, []byte(`{"type":"say","text":"`+strings.Repeat("x", 17<<10)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if code := big.closeCode(t); code != 1009 {
		t.Errorf("a 17 KiB frame closed with %d, want 1009", code)
	}

	bad := connect(t, n, "alice", tok)
	if err := bad.conn.WriteMessage(gws.OpcodeText, []byte{'"', 0xff, 0xfe, '"'}); err != nil {
		t.Fatal(err)
	}
	if code := bad.closeCode(t); code != 1007 {
		t.Errorf("invalid UTF-8 closed with %d, want 1007", code)
	}

	flood := connect(t, n, "alice", tok)
	for range messageBurst + 5 {
		flood.send(t, TypingIn{Type: "typing", Room: "lobby"})
	}
	limited := 0
	for limited == 0 {
		if e := flood.next(t, "a rate-limited error"); e.Type == "error" && e.Error == "rate limited" {
			limited++
		}
	}
	for range limitedToDrop + 10 {
		if err := flood.conn.WriteMessage(gws.OpcodeText, []byte(`{"type":"typing","room":"lobby"}`)); err != nil {
			break
		}
	}
	if code := flood.closeCode(t); code != 1008 {
		t.Errorf("a flood closed with %d, want 1008", code)
	}
}

// SIGTERM's path: clients get 1001, and every accepted message is stored.
func TestShutdown(t *testing.T) {
	n := start(t, memDB(t)...)
	tok := signup(t, n, "alice")
	c := connect(t, n, "alice", tok)
	c.send(t, JoinIn{Type: "join", Room: "lobby"})
	c.expect(t, "joined")
	c.send(t, SayIn{Type: "say", Room: "lobby", Text: "last words"})
	c.expect(t, "message")
	var count int
	if err := n.chat.db.DB().QueryRow(`SELECT count(*) FROM messages WHERE text = 'last words'`).Scan(&count); err != nil || count != 1 {
		t.Fatalf("stored %d (%v)", count, err)
	}
	start := time.Now()
	n.stop(t)
	if code := c.closeCode(t); code != 1001 {
		t.Errorf("on shutdown the client got %d, want 1001", code)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}
