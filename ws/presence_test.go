package ws

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// presenceRoute serves /ws: a connection's presence info is its ?name,
// and it runs "info NAME", "watch T", "sub T", "unsub T", "who T" and
// "count T" commands; each presence event arrives as "join T NAME" or
// "leave T NAME".
func presenceRoute(app *graft.App[graft.Ctx]) {
	names := func(ms []Presence) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.Info)
		}
		slices.Sort(s)
		return strings.Join(s, ",")
	}
	Route(app, "/ws", Behavior[struct{}]{
		Open: func(c *Conn[struct{}]) {},
		Upgrade: func(c *graft.Ctx) (struct{}, error) {
			return struct{}{}, nil
		},
		Message: func(c *Conn[struct{}], data []byte, op OpCode) {
			cmd, arg, _ := strings.Cut(string(data), " ")
			reply := "ok " + string(data)
			switch cmd {
			case "info":
				if err := c.SetPresenceInfo(arg); err != nil {
					reply = "err " + err.Error()
				}
			case "watch":
				ms, err := c.SubscribePresence(arg)
				if err != nil {
					reply = "err " + err.Error()
					break
				}
				reply = "members " + names(ms)
			case "sub":
				if _, err := c.TrySubscribe(arg); err != nil {
					reply = "err " + err.Error()
				}
			case "unsub":
				c.Unsubscribe(arg)
			case "who":
				ms, err := c.Presence(arg)
				if err != nil {
					reply = "err " + err.Error()
					break
				}
				reply = "who " + names(ms)
			case "count":
				n, err := c.NumClusterSubscribers(arg)
				if err != nil {
					reply = "err " + err.Error()
					break
				}
				reply = fmt.Sprintf("count %d local %d", n, c.NumSubscribers(arg))
			}
			c.Send([]byte(reply), OpText, false)
		},
		Presence: func(c *Conn[struct{}], ev PresenceEvent) {
			c.Send([]byte(ev.Kind.String()+" "+ev.Topic+" "+ev.Member.Info), OpText, false)
		},
	})
}

func presenceApp(t *testing.T, cfg Config) *graft.App[graft.Ctx] {
	t.Helper()
	return wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(cfg))
		presenceRoute(app)
	})
}

// say sends a command and expects its answer.
func (c *wsRawClient) say(cmd, want string) {
	c.t.Helper()
	c.writeFrame(wsTextFrame(cmd))
	c.expectText(want)
}

// TestPresenceOneNode: who is on a topic, the counts, and join and leave
// events to the connections that watch it (not their own, not to plain
// subscribers), on one node without a broker.
func TestPresenceOneNode(t *testing.T) {
	app := presenceApp(t, Config{Presence: []string{"room.*"}})
	hub := HubOf(app)
	alice := wsDial(t, app.Addr(), "/ws")
	alice.say("info alice", "ok info alice")
	alice.say("watch room.1", "members alice")

	bob := wsDial(t, app.Addr(), "/ws")
	bob.say("info bob", "ok info bob")
	bob.say("sub room.1", "ok sub room.1") // a subscriber, not a watcher
	alice.expectText("join room.1 bob")
	alice.say("who room.1", "who alice,bob")
	bob.say("count room.1", "count 2 local 2")

	carol := wsDial(t, app.Addr(), "/ws")
	carol.say("info carol", "ok info carol")
	carol.say("watch room.1", "members alice,bob,carol")
	alice.expectText("join room.1 carol")

	bob.say("unsub room.1", "ok unsub room.1")
	alice.expectText("leave room.1 bob")
	carol.expectText("leave room.1 bob")
	// A connection closing leaves its topics.
	carol.writeFrame(wsCloseFrame(1000, ""))
	carol.expectClose(StatusNormalClosure)
	alice.expectText("leave room.1 carol")
	alice.say("count room.1", "count 1 local 1")
	if ms, err := hub.Presence("room.1"); err != nil || len(ms) != 1 || ms[0].Info != "alice" || ms[0].Node != hub.NodeID() {
		t.Fatalf("Presence(room.1) = %v, %v; want alice on node %s", ms, err, hub.NodeID())
	}
	if n, err := NumClusterSubscribers(app, "room.2"); err != nil || n != 0 {
		t.Fatalf("NumClusterSubscribers(room.2) = %d, %v; want 0, nil", n, err)
	}
	// bob's later subscription carries bob's info; no event reached bob.
	bob.say("sub room.1", "ok sub room.1")
	alice.expectText("join room.1 bob")
	bob.say("count room.1", "count 2 local 2")
}

// TestPresenceErrors: topics without presence, info over the limit, a
// route without a Presence handler, the reserved topics.
func TestPresenceErrors(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{Presence: []string{"room.*"}}))
		presenceRoute(app)
		Route(app, "/plain", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				_, err := c.SubscribePresence(string(data))
				c.Send([]byte(fmt.Sprint(err)), OpText, false)
			},
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	noPres := `err ` + ErrNoPresence.Error() + ` (topic "lobby")`
	c.say("watch lobby", noPres)
	c.say("who lobby", noPres)
	c.say("count lobby", noPres)
	long := strings.Repeat("x", MaxPresenceInfo+1)
	c.say("info "+long, fmt.Sprintf("err graft: presence info of %d bytes is over MaxPresenceInfo (%d)", MaxPresenceInfo+1, MaxPresenceInfo))
	c.say("info "+long[1:], "ok info "+long[1:])
	c.say("sub "+presenceTopic, "err "+ErrReservedTopic.Error())
	if err := HubOf(app).Publish(presenceTopic, []byte("x"), OpText); !errors.Is(err, ErrReservedTopic) {
		t.Fatalf("Publish on the presence topic = %v, want ErrReservedTopic", err)
	}
	p := wsDial(t, app.Addr(), "/plain")
	p.writeFrame(wsTextFrame("room.1"))
	p.expectText(`graft: SubscribePresence("room.1") on WebSocket route /plain, which has no Behavior.Presence handler to receive the events`)

	// Without Config.Presence nothing has presence.
	bare := presenceApp(t, Config{})
	if _, err := HubOf(bare).Presence("room.1"); !errors.Is(err, ErrNoPresence) {
		t.Fatalf("Presence without Config.Presence = %v, want ErrNoPresence", err)
	}
}

// TestPresenceConfigErrors: presence settings that cannot work fail
// start-up, naming the field.
func TestPresenceConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Presence: []string{"a", ""}}, "ws.Config.Presence[1] is empty"},
		{Config{Presence: []string{"a"}, PresenceTTL: -time.Second}, "ws.Config.PresenceTTL is -1s"},
	} {
		app := graft.New(graft.Config{Logger: wsQuietLogger(), Host: "127.0.0.1", Port: -1})
		app.Register(Extension(tc.cfg))
		presenceRoute(app)
		err := app.Start(t.Context())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start = %v, want an error saying %q", err, tc.want)
		}
		app.Shutdown(t.Context())
	}
}

// TestPresenceWire: every message kind survives encoding, big batches
// and snapshots are cut into parts, and no truncation or corruption of a
// message panics.
func TestPresenceWire(t *testing.T) {
	node := broker.NewNodeID()
	var ops []presOp
	var ents []presEntry
	for i := range 3000 {
		info := fmt.Sprintf("user-%d", i)
		ops = append(ops, presOp{join: i%3 != 0, topic: "room", conn: uint64(i), info: info})
		if !ops[i].join {
			ops[i].info = ""
		}
		ents = append(ents, presEntry{topic: fmt.Sprint("t", i%7), conn: uint64(i), info: info})
	}
	msgs := encodeChanges(node, 41, ops)
	if len(msgs) < 2 {
		t.Fatalf("3000 changes in %d message, want several", len(msgs))
	}
	var got []presOp
	next := uint64(41)
	for _, b := range msgs {
		if len(b) > presMaxMessage+200 {
			t.Fatalf("a changes message of %d bytes", len(b))
		}
		m, err := decodePresence(b)
		if err != nil || m.kind != presChanges || m.node != node || m.seq != next {
			t.Fatalf("decode: %v kind %c seq %d, want changes from %d", err, m.kind, m.seq, next)
		}
		next += uint64(len(m.ops))
		got = append(got, m.ops...)
	}
	if !slices.Equal(got, ops) {
		t.Fatal("changes differ after the round trip")
	}
	snap := encodeSnapshot(node, 7, 3, ents)
	var gotEnts []presEntry
	for i, b := range snap {
		m, err := decodePresence(b)
		if err != nil || m.seq != 7 || m.id != 3 || m.index != i || m.total != len(snap) {
			t.Fatalf("snapshot part %d: %v %+v", i, err, m)
		}
		gotEnts = append(gotEnts, m.ents...)
	}
	if len(snap) < 2 || !slices.Equal(gotEnts, ents) {
		t.Fatalf("snapshot: %d parts, entries equal %v", len(snap), slices.Equal(gotEnts, ents))
	}
	if m, err := decodePresence(encodeSnapshot(node, 0, 1, nil)[0]); err != nil || m.total != 1 || len(m.ents) != 0 {
		t.Fatalf("empty snapshot: %v %+v", err, m)
	}
	target := broker.NewNodeID()
	for _, b := range [][]byte{encodeHeartbeat(node, 99), encodeRequest(node, target), encodeBye(node)} {
		m, err := decodePresence(b)
		if err != nil || m.node != node {
			t.Fatalf("%c: %v", b[2], err)
		}
		if b[2] == presHeartbeat && m.seq != 99 || b[2] == presRequest && m.target != target {
			t.Fatalf("%c decoded as %+v", b[2], m)
		}
	}
	// Every prefix of every kind, and every single-byte corruption of a
	// small one, is rejected or decoded, never a panic.
	small := encodeChanges(node, 1, ops[:3])[0]
	all := [][]byte{small, encodeSnapshot(node, 1, 1, ents[:3])[0], encodeHeartbeat(node, 5), encodeRequest(node, target), encodeBye(node)}
	for _, b := range all {
		for n := range len(b) {
			if _, err := decodePresence(b[:n]); err == nil && n < len(b) && b[2] != presBye {
				t.Fatalf("%c message cut to %d of %d bytes decoded without error", b[2], n, len(b))
			}
		}
		for i := range b {
			c := slices.Clone(b)
			c[i] ^= 0xff
			decodePresence(c)
		}
	}
	if _, err := decodePresence(append(encodeBye(node), 0)); !errors.Is(err, errPresMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestPresenceResync drives one node's replica with another node's
// messages as the bus would deliver them, losses included: changes in
// order are applied, a gap (or a heartbeat ahead of what was applied)
// makes it ask that node for a snapshot and ignore changes until the
// snapshot, which replaces the node's members as joins and leaves; a bye
// drops them.
func TestPresenceResync(t *testing.T) {
	h := Extension(Config{})
	h.logger = wsQuietLogger()
	p, err := newPresence(h, &Config{Presence: []string{"*"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := broker.NewNodeID()
	join := func(conn uint64, info string) presOp {
		return presOp{join: true, topic: "room", conn: conn, info: info}
	}
	recv := func(b [][]byte) {
		for _, m := range b {
			p.receive(m)
		}
	}
	want := func(what string, infos ...string) {
		t.Helper()
		var got []string
		for _, m := range p.members("room") {
			got = append(got, m.Info)
		}
		if !slices.Equal(got, infos) {
			t.Fatalf("%s: members %v, want %v", what, got, infos)
		}
	}
	asked := func(what string, want bool) {
		t.Helper()
		p.mu.Lock()
		got := slices.Contains(p.requests, other)
		p.requests = nil
		p.mu.Unlock()
		if got != want {
			t.Fatalf("%s: asked for a snapshot %v, want %v", what, got, want)
		}
	}
	recv(encodeChanges(other, 1, []presOp{join(1, "a"), join(2, "b")}))
	want("first changes", "a", "b")
	asked("first changes", false)
	recv(encodeChanges(other, 3, []presOp{{topic: "room", conn: 1}}))
	want("a leave", "b")
	recv(encodeChanges(other, 3, []presOp{{topic: "room", conn: 1}})) // a duplicate
	want("duplicate", "b")
	recv([][]byte{encodeHeartbeat(other, 3)})
	asked("heartbeat in step", false)
	// Change 4 is lost: 5 makes it ask, and it ignores 6.
	recv(encodeChanges(other, 5, []presOp{join(5, "e")}))
	asked("gap", true)
	recv(encodeChanges(other, 6, []presOp{join(6, "f")}))
	want("ignored while unsynced", "b")
	p.mu.Lock()
	p.nodes[other].asked = monoNow() - int64(time.Hour) // as if a beat had passed
	p.mu.Unlock()
	recv([][]byte{encodeHeartbeat(other, 6)})
	asked("heartbeat while unsynced", true)
	// A watcher on this node, to see the events the snapshot makes.
	p.mu.Lock()
	p.topics["room"].watchers = map[subKey]uint64{{s: &Socket{}}: 999}
	p.events = nil
	p.mu.Unlock()
	// The snapshot as of 6 (a two-part one, parts out of order):
	ents := []presEntry{{"room", 4, "d"}, {"room", 5, "e"}, {"room", 6, "f"}}
	parts := [][]byte{encodeSnapshot(other, 6, 9, ents[:1])[0], encodeSnapshot(other, 6, 9, ents[1:])[0]}
	for i := range parts { // make them parts 0 and 1 of 2
		m, _ := decodePresence(parts[i])
		parts[i] = reencodePart(other, m, i, 2)
	}
	p.receive(parts[1])
	want("half a snapshot", "b")
	p.receive(parts[1]) // a duplicate part
	p.receive(parts[0])
	want("snapshot", "d", "e", "f")
	recv(encodeChanges(other, 7, []presOp{join(7, "g")}))
	want("after the snapshot", "d", "e", "f", "g")
	asked("after the snapshot", false)
	// The watcher's events: b left, d, e and f joined (in some order, from
	// the snapshot), then g.
	p.mu.Lock()
	var evs []string
	for _, d := range p.events {
		evs = append(evs, d.ev.Kind.String()+" "+d.ev.Member.Info)
	}
	p.events = nil
	p.mu.Unlock()
	if len(evs) != 5 || evs[4] != "join g" {
		t.Fatalf("events %q, want b's leave, d, e, f's joins, then g's", evs)
	}
	slices.Sort(evs[:4])
	if want := []string{"join d", "join e", "join f", "leave b"}; !slices.Equal(evs[:4], want) {
		t.Fatalf("snapshot events %q, want %q", evs[:4], want)
	}
	recv([][]byte{encodeBye(other)})
	want("bye")
	p.mu.Lock()
	nleave := 0
	for _, d := range p.events {
		if d.ev.Kind == PresenceLeave {
			nleave++
		}
	}
	p.mu.Unlock()
	if nleave != 4 {
		t.Fatalf("a bye made %d leave events, want 4 (d, e, f, g)", nleave)
	}
	if n := p.count("room"); n != 0 {
		t.Fatalf("count after bye %d", n)
	}
	// A node heard for the first time at a later change is asked.
	third := broker.NewNodeID()
	p.receive(encodeHeartbeat(third, 12))
	p.mu.Lock()
	got := slices.Contains(p.requests, third)
	p.mu.Unlock()
	if !got {
		t.Fatal("a node first heard at change 12 was not asked for its snapshot")
	}
}

// reencodePart rebuilds snapshot message m as part index of total.
func reencodePart(node broker.NodeID, m presMsg, index, total int) []byte {
	b := encodeSnapshot(node, m.seq, m.id, m.ents)[0]
	// Header, seq, id; then index and total (one byte each here).
	off := presHeader
	for range 2 {
		for b[off]&0x80 != 0 {
			off++
		}
		off++
	}
	b[off], b[off+1] = byte(index), byte(total)
	return b
}

// --ws.presence and --ws.presence-ttl (and GRAFT_WS_PRESENCE) set
// Config.Presence and PresenceTTL.
func TestPresenceFlags(t *testing.T) {
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	app.Register(Extension(Config{}))
	if f := app.Flags().Lookup("ws.presence-ttl"); f == nil || f.DefValue != DefaultPresenceTTL.String() {
		t.Fatalf("--ws.presence-ttl flag: %+v", f)
	}
	if err := app.ParseFlags([]string{"--ws.presence", "room.*,signal-*", "--ws.presence-ttl", "3s"}); err != nil {
		t.Fatal(err)
	}
	if got := HubOf(app).cfg; !slices.Equal(got.Presence, []string{"room.*", "signal-*"}) || got.PresenceTTL != 3*time.Second {
		t.Fatalf("Presence = %q, PresenceTTL = %v", got.Presence, got.PresenceTTL)
	}
	t.Setenv("GRAFT_WS_PRESENCE", "lobby")
	app = graft.New(graft.Config{Logger: wsQuietLogger()})
	app.Register(Extension(Config{}))
	if err := app.ParseFlags([]string{}); err != nil {
		t.Fatal(err)
	}
	if got := HubOf(app).cfg.Presence; !slices.Equal(got, []string{"lobby"}) {
		t.Fatalf("Presence from GRAFT_WS_PRESENCE = %q", got)
	}
}
