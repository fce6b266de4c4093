package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/ws"
)

// Two nodes on different ports with the same --db and a bus (--nats,
// --redis): users and the token key are shared; room messages, presence
// and pms cross the nodes exactly once; GET /rooms counts members on both;
// a client that drops from one node and resumes on the other loses and
// doubles nothing.
func TestTwoNodes(t *testing.T) {
	for _, bus := range []struct {
		name, flag string
		start      func(*testing.T) string
	}{{"NATS", "--nats", startNATS}, {"Redis", "--redis", startRedis}} {
		t.Run(bus.name, func(t *testing.T) {
			url := bus.start(t)
			db := memDB(t)
			a := start(t, append(db, bus.flag, url)...)
			b := start(t, append(db, bus.flag, url)...)
			atok := signup(t, a, "alice")
			btok := signup(t, b, "bob")
			signupLogin(t, b, "alice") // a user made on A logs in on B
			alice := connect(t, a, "alice", atok)
			bob := connect(t, b, "bob", btok)

			alice.send(t, JoinIn{Type: "join", Room: "lobby"})
			ja := alice.expect(t, "joined")
			waitFor(t, "node B to see alice in the lobby", func() bool {
				n, err := ws.HubOf(b.app).NumClusterSubscribers("room.lobby")
				return err == nil && n == 1
			})
			bob.send(t, JoinIn{Type: "join", Room: "lobby"})
			jb := bob.expect(t, "joined")
			if fmt.Sprint(jb.Members) != "[alice bob]" || jb.Epoch != ja.Epoch {
				t.Fatalf("bob joined on B: %+v (alice's epoch %q)", jb, ja.Epoch)
			}
			if p := alice.skip(t, "presence"); p.User != "bob" || p.Event != "join" {
				t.Fatalf("alice's presence %+v", p)
			}
			for _, n := range []*node{a, b} {
				code, body, _ := call(t, "GET", n.url("/rooms"), nil)
				if code != http.StatusOK || strings.TrimSpace(string(body)) != `[{"name":"lobby","members":2}]` {
					t.Errorf("GET /rooms on %s: %d %s", n.addr, code, body)
				}
			}

			// Room messages both ways, each once, in order, same offsets.
			const each = 10
			for i := 1; i <= each; i++ {
				alice.send(t, SayIn{Type: "say", Room: "lobby", Text: fmt.Sprint("a", i)})
				bob.send(t, SayIn{Type: "say", Room: "lobby", Text: fmt.Sprint("b", i)})
				time.Sleep(30 * time.Millisecond) // within the message rate
			}
			got := map[string][]wire{}
			for _, c := range []*client{alice, bob} {
				for range 2 * each {
					m := c.skip(t, "message")
					got[c.name] = append(got[c.name], m)
				}
			}
			for i := range 2 * each {
				ma, mb := got["alice"][i], got["bob"][i]
				if ma.Offset != uint64(i+1) || ma.Offset != mb.Offset || ma.Text != mb.Text || ma.ID != mb.ID {
					t.Fatalf("message %d: alice saw %+v, bob saw %+v", i+1, ma, mb)
				}
			}

			// Private messages across the nodes, every one.
			for i := 1; i <= 5; i++ {
				alice.send(t, PMIn{Type: "pm", To: "bob", Message: fmt.Sprint("hello ", i)})
			}
			for i := 1; i <= 5; i++ {
				if m := bob.skip(t, "pm"); m.From != "alice" || m.Message != fmt.Sprint("hello ", i) {
					t.Fatalf("bob's pm %d: %+v", i, m)
				}
			}

			// alice drops from A, bob talks on, alice resumes on B.
			last := got["alice"][2*each-1]
			alice.drop()
			for i := 1; i <= 5; i++ {
				bob.send(t, SayIn{Type: "say", Room: "lobby", Text: fmt.Sprint("missed ", i)})
			}
			for range 5 {
				bob.skip(t, "message")
			}
			again := connect(t, b, "alice", atok)
			again.send(t, ResumeIn{Type: "resume", Room: "lobby", Epoch: ja.Epoch, Offset: last.Offset})
			for i := 1; i <= 5; i++ {
				if m := again.expect(t, "message"); m.Text != fmt.Sprint("missed ", i) || m.Offset != last.Offset+uint64(i) {
					t.Fatalf("resumed on the other node, message %d: %+v", i, m)
				}
			}
			again.expect(t, "resumed")
		})
	}
}
