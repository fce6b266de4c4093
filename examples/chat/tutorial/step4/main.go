// Command step4 is step 4 of docs/tutorial.md: step 3's room with a
// history, so a client that reconnects resumes where it left off, and
// --nats to run several nodes as one. It lives in the chat's module,
// which has the NATS broker as a dependency.
//
// On connecting (/ws?user=NAME[&epoch=E&offset=N]) a client gets
// {"epoch":E,"offset":N} (where it stands), then every message after N
// that it missed, each {"offset":N,"from":NAME,"text":…}.
//
//	go run ./examples/chat/tutorial/step4 --port 8081 --nats nats://127.0.0.1:4222
//	go run ./examples/chat/tutorial/step4 --port 8082 --nats nats://127.0.0.1:4222
package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"regexp"
	"strconv"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	natsbroker "github.com/graftgo/graft/broker/nats"
	"github.com/graftgo/graft/ws"
)

// Session is a connection's data: its user and where it resumes from.
type Session struct {
	User string
	From ws.Position
}

// Say is a room message as it is stored and published.
type Say struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// Where tells a client where it stands in the room's stream.
type Where struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

const room = "room.lobby"

var userName = regexp.MustCompile(`^[a-z0-9_]{3,32}$`)

// Settings is the [bus] section: --nats.
type Settings struct {
	NATS string `toml:"nats" flag:"nats" help:"NATS server URL whose bus and JetStream join this node to the others"`
}

// bus is the extension that gives the hub a NATS broker when --nats is set.
type bus struct{ cfg Settings }

func (*bus) ID() string                     { return "tutorial.bus" }
func (*bus) Requires() []string             { return []string{ws.ExtensionID} }
func (b *bus) ConfigSection() (string, any) { return "bus", &b.cfg }
func (b *bus) Extend(gb *graft.Builder) error {
	if b.cfg.NATS == "" {
		return nil // one node: the in-memory bus
	}
	hub, err := graft.Require[*ws.Hub](gb)
	if err != nil {
		return err
	}
	br, err := natsbroker.New(natsbroker.Options{URL: b.cfg.NATS})
	if err != nil {
		return errors.New("tutorial.bus: --nats " + b.cfg.NATS + ": " + err.Error())
	}
	hub.SetBroker(br)
	return nil
}

// frame puts the offset into each stored JSON message as it is delivered.
func frame(dst []byte, _ string, pos broker.Position, data []byte, _ ws.OpCode) []byte {
	dst = append(dst, `{"offset":`...)
	dst = strconv.AppendUint(dst, pos.Offset, 10)
	dst = append(dst, ',')
	return append(dst, data[1:]...)
}

// newApp builds the app; main runs it and the test serves it.
func newApp(cfg graft.Config) *graft.App[graft.Ctx] {
	app := graft.New(cfg)
	app.Register(ws.Extension(ws.Config{
		History:      broker.HistoryPolicies{{Pattern: "room.*", HistoryPolicy: broker.HistoryPolicy{Size: 100}}},
		HistoryFrame: frame,
	}), &bus{})
	ws.Route(app, "/ws", ws.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) {
			u := c.Query("user")
			if !userName.MatchString(u) {
				return Session{}, graft.NewError(http.StatusBadRequest, "pass ?user=NAME, 3 to 32 of a-z, 0-9 and _")
			}
			s := Session{User: u, From: ws.Position{Epoch: c.Query("epoch")}}
			if o := c.Query("offset"); o != "" {
				n, err := strconv.ParseUint(o, 10, 64)
				if err != nil {
					return Session{}, graft.NewError(http.StatusBadRequest, "offset must be a number")
				}
				s.From.Offset = n
			}
			return s, nil
		},
		Open: func(conn *ws.Conn[Session]) {
			rec, err := conn.SubscribeFrom(room, conn.Data().From)
			if err != nil {
				conn.Close(ws.StatusInternalError, "subscribe")
				return
			}
			// Sent after the recovered messages; the client knows its
			// offset from the last message it got, or from this.
			b, _ := json.Marshal(Where{Epoch: rec.Position.Epoch, Offset: rec.Position.Offset})
			conn.Send(b, ws.OpText, false)
		},
		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) {
			b, _ := json.Marshal(Say{From: conn.Data().User, Text: string(data)})
			if err := conn.Publish(room, b, ws.OpText); err != nil {
				conn.Close(ws.StatusInternalError, "not delivered")
			}
		},
	})
	return app
}

func main() {
	if err := newApp(graft.Config{}).Run(); err != nil {
		log.Fatal(err)
	}
}
