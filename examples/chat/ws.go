package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
)

// The chat's WebSocket protocol, JSON text messages with a "type" (see
// the package comment and the AsyncAPI document at /asyncapi.json).
//
// Topics: "room.R" (the room's messages, with a history and presence),
// "typing.R" (typing notices, never stored) and "user.U" (private
// messages to U, which every connection of U subscribes to).

// Limits of the protocol.
const (
	maxText       = 2000 // runes of a room message or a pm
	messageRate   = 10   // messages a connection may send per second…
	messageBurst  = 20   // …after a burst of this many
	limitedToDrop = 50   // rate-limited messages in a row that close the connection (1008)
	historySize   = 1000 // messages of a room a reconnecting client can resume
	historyTTL    = 24 * time.Hour
)

var roomName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Session is a connection's data.
type Session struct {
	User    string
	rooms   map[string]bool // rooms joined; handlers of a connection run one at a time
	limited int             // rate-limited messages in a row
}

// Client → server.

// JoinIn joins a room.
type JoinIn struct {
	Type string `json:"type" enum:"join"`
	Room string `json:"room" required:"true" pattern:"^[a-z0-9_-]{1,32}$" example:"lobby"`
}

// LeaveIn leaves a room.
type LeaveIn struct {
	Type string `json:"type" enum:"leave"`
	Room string `json:"room" required:"true" pattern:"^[a-z0-9_-]{1,32}$" example:"lobby"`
}

// SayIn sends a message to a room the connection joined.
type SayIn struct {
	Type string `json:"type" enum:"say"`
	Room string `json:"room" required:"true" pattern:"^[a-z0-9_-]{1,32}$" example:"lobby"`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"2000" example:"hi"`
}

// TypingIn tells the other members of a room that the user is typing.
type TypingIn struct {
	Type string `json:"type" enum:"typing"`
	Room string `json:"room" required:"true" pattern:"^[a-z0-9_-]{1,32}$" example:"lobby"`
}

// PMIn sends a private message to a user, wherever they are connected.
type PMIn struct {
	Type    string `json:"type" enum:"pm"`
	To      string `json:"to" required:"true" pattern:"^[a-z0-9_]{3,32}$" example:"bob"`
	Message string `json:"message" required:"true" minLength:"1" maxLength:"2000" example:"hello"`
}

// ResumeIn rejoins a room after a reconnect, from the last message seen.
type ResumeIn struct {
	Type   string `json:"type" enum:"resume"`
	Room   string `json:"room" required:"true" pattern:"^[a-z0-9_-]{1,32}$" example:"lobby"`
	Epoch  string `json:"epoch" required:"true" doc:"the epoch of the joined message" example:"9f3c2a"`
	Offset uint64 `json:"offset" doc:"the offset of the last message seen" example:"41"`
}

// clientMsg is any client message.
type clientMsg struct {
	Type    string `json:"type"`
	Room    string `json:"room"`
	Text    string `json:"text"`
	To      string `json:"to"`
	Message string `json:"message"`
	Epoch   string `json:"epoch"`
	Offset  uint64 `json:"offset"`
}

// Server → client.

// JoinedOut answers a join: where the room's stream stands and who is in.
type JoinedOut struct {
	Type    string   `json:"type" enum:"joined"`
	Room    string   `json:"room" example:"lobby"`
	Epoch   string   `json:"epoch" doc:"the room stream's epoch; resume sends it back" example:"9f3c2a"`
	Offset  uint64   `json:"offset" doc:"the offset of the room's last message" example:"41"`
	Members []string `json:"members" doc:"the users in the room, on every node, sorted" example:"[\"alice\",\"bob\"]"`
}

// RoomOut is left, resumed and reload.
type RoomOut struct {
	Type   string `json:"type" enum:"left,resumed,reload"`
	Room   string `json:"room" example:"lobby"`
	Epoch  string `json:"epoch,omitempty" doc:"reload: the stream's epoch from now on"`
	Offset uint64 `json:"offset,omitempty" doc:"reload: the offset from which messages continue"`
}

// PresenceOut tells the members of a room that a user joined or left.
type PresenceOut struct {
	Type  string `json:"type" enum:"presence"`
	Room  string `json:"room" example:"lobby"`
	User  string `json:"user" example:"alice"`
	Event string `json:"event" enum:"join,leave"`
}

// MessageOut is a room message.
type MessageOut struct {
	Type   string `json:"type" enum:"message"`
	Offset uint64 `json:"offset" doc:"the message's offset in the room's stream" example:"42"`
	Message
}

// TypingOut says a member is typing.
type TypingOut struct {
	Type string `json:"type" enum:"typing"`
	Room string `json:"room" example:"lobby"`
	User string `json:"user" example:"alice"`
}

// PMOut is a private message.
type PMOut struct {
	Type    string `json:"type" enum:"pm"`
	From    string `json:"from" example:"alice"`
	Message string `json:"message" example:"hello"`
}

// ErrorOut reports a message the server could not act on; the connection
// stays open.
type ErrorOut struct {
	Type  string `json:"type" enum:"error"`
	Error string `json:"error" example:"rate limited"`
}

// msgOf declares a message of type typ; name tells apart the messages
// both sides send with one type (typing, pm).
func msgOf[T any](name, typ, summary string) ws.Message {
	return ws.Message{Name: name, Payload: reflect.TypeFor[T](), Summary: summary, Discriminator: "type", DiscriminatorValue: typ}
}

// handshake documents /ws's query.
type handshake struct {
	Token string `query:"token" required:"true" doc:"a token from POST /users or POST /login"`
}

func roomTopic(r string) string   { return "room." + r }
func typingTopic(r string) string { return "typing." + r }
func userTopic(u string) string   { return "user." + u }

// historyFrame delivers a room message with its offset: the stored
// payload is a JSON object, into which the offset goes first.
func historyFrame(dst []byte, topic string, pos broker.Position, data []byte, _ ws.OpCode) []byte {
	if len(data) < 2 || data[0] != '{' {
		return append(dst, data...)
	}
	dst = append(dst, `{"offset":`...)
	dst = strconv.AppendUint(dst, pos.Offset, 10)
	if data[1] != '}' {
		dst = append(dst, ',')
	}
	return append(dst, data[1:]...)
}

// wsConfig is the hub's settings: rooms keep a history and presence.
func wsConfig() ws.Config {
	return ws.Config{
		History: broker.HistoryPolicies{
			{Pattern: "room.*", HistoryPolicy: broker.HistoryPolicy{Size: historySize, TTL: historyTTL}},
		},
		HistoryFrame: historyFrame,
		Presence:     []string{"room.*"},
	}
}

// chatWS is the /ws route's behaviour.
func chatWS(st func() store, tokens *keys, log func() *slog.Logger) ws.Behavior[Session] {
	send := func(conn *ws.Conn[Session], v any) {
		b, err := json.Marshal(v)
		if err == nil {
			conn.Send(b, ws.OpText, false)
		}
	}
	fail := func(conn *ws.Conn[Session], msg string) { send(conn, ErrorOut{Type: "error", Error: msg}) }
	members := func(ps []ws.Presence) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Info)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	// enter subscribes the connection to a room from a position (the zero
	// one: fresh) and watches its presence.
	enter := func(conn *ws.Conn[Session], room string, from ws.Position) (ws.Recovery, []string, error) {
		rec, err := conn.SubscribeFrom(roomTopic(room), from)
		if err != nil {
			return rec, nil, err
		}
		ps, err := conn.SubscribePresence(roomTopic(room))
		if err != nil {
			conn.Unsubscribe(roomTopic(room))
			return rec, nil, err
		}
		conn.Subscribe(typingTopic(room))
		conn.Data().rooms[room] = true
		return rec, members(ps), nil
	}
	publish := func(conn *ws.Conn[Session], topic string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		if err := conn.Publish(topic, b, ws.OpText); err != nil {
			if errors.Is(err, ws.ErrLocalOnly) {
				log().Warn("chat: delivered on this node only", "topic", topic, "err", err)
				return
			}
			fail(conn, "not delivered: "+err.Error())
		}
	}
	return ws.Behavior[Session]{
		Description:  "The chat. Connect with `?token=…`; every message is a JSON text frame with a `type`.",
		Handshake:    reflect.TypeFor[handshake](),
		MessageRate:  messageRate,
		MessageBurst: messageBurst,
		MaxTopics:    300,
		Receives: []ws.Message{
			msgOf[JoinIn]("join", "join", "Join a room"), msgOf[LeaveIn]("leave", "leave", "Leave a room"),
			msgOf[SayIn]("say", "say", "Send a message to a joined room"), msgOf[TypingIn]("typingRequest", "typing", "Tell a room you are typing"),
			msgOf[PMIn]("pmRequest", "pm", "Send a private message"), msgOf[ResumeIn]("resume", "resume", "Rejoin a room after a reconnect, from the last message seen"),
		},
		Sends: []ws.Message{
			msgOf[JoinedOut]("joined", "joined", "A join's answer"), msgOf[MessageOut]("message", "message", "A room message"),
			msgOf[PresenceOut]("presence", "presence", "A member joined or left"), msgOf[TypingOut]("typing", "typing", "A member is typing"),
			msgOf[PMOut]("pm", "pm", "A private message"), msgOf[RoomOut]("left", "left", "A leave's answer (also resumed and reload)"),
			msgOf[ErrorOut]("error", "error", "A message the server could not act on"),
		},
		Topics: []ws.Topic{
			{Pattern: "room.{room}", Description: "A room's messages, kept in a history of the last 1,000 (24 h) that resume reads; presence is tracked."},
			{Pattern: "typing.{room}", Description: "Typing notices of a room, never stored."},
			{Pattern: "user.{user}", Description: "Private messages to a user; every connection of the user subscribes."},
		},
		Upgrade: func(c *graft.Ctx) (Session, error) {
			user := tokens.verify(c.Query("token"))
			if user == "" {
				return Session{}, graft.NewError(http.StatusUnauthorized, "pass ?token=TOKEN, a valid token from POST /users or POST /login")
			}
			return Session{User: user, rooms: map[string]bool{}}, nil
		},
		Open: func(conn *ws.Conn[Session]) {
			if err := conn.SetPresenceInfo(conn.Data().User); err != nil {
				conn.Close(ws.StatusInternalError, "presence")
				return
			}
			conn.Subscribe(userTopic(conn.Data().User))
		},
		RateLimited: func(conn *ws.Conn[Session], _ []byte, _ ws.OpCode) {
			s := conn.Data()
			if s.limited++; s.limited >= limitedToDrop {
				conn.Close(ws.StatusPolicyViolation, "rate limit: too many messages")
				return
			}
			fail(conn, "rate limited")
		},
		Presence: func(conn *ws.Conn[Session], ev ws.PresenceEvent) {
			room, ok := strings.CutPrefix(ev.Topic, "room.")
			if !ok {
				return
			}
			kind := "join"
			if ev.Kind == ws.PresenceLeave {
				kind = "leave"
			}
			send(conn, PresenceOut{Type: "presence", Room: room, User: ev.Member.Info, Event: kind})
		},
		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) {
			s := conn.Data()
			s.limited = 0
			var m clientMsg
			if op != ws.OpText || json.Unmarshal(data, &m) != nil {
				fail(conn, `not a JSON message: send {"type":"join","room":"lobby"}, say, typing, leave, pm or resume`)
				return
			}
			needRoom := m.Type == "join" || m.Type == "leave" || m.Type == "say" || m.Type == "typing" || m.Type == "resume"
			if needRoom && !roomName.MatchString(m.Room) {
				fail(conn, "room must be 1 to 32 of a-z, 0-9, _ and -")
				return
			}
			if (m.Type == "say" || m.Type == "typing") && !s.rooms[m.Room] {
				fail(conn, "join room "+m.Room+" first")
				return
			}
			ctx := context.Background()
			switch m.Type {
			case "join":
				rec, who, err := enter(conn, m.Room, ws.Position{})
				if err != nil {
					fail(conn, "join failed: "+err.Error())
					return
				}
				if err := st().ensureRoom(ctx, m.Room); err != nil {
					log().Error("chat: recording a room", "room", m.Room, "err", err)
				}
				send(conn, JoinedOut{Type: "joined", Room: m.Room, Epoch: rec.Position.Epoch, Offset: rec.Position.Offset, Members: who})
			case "resume":
				rec, _, err := enter(conn, m.Room, ws.Position{Epoch: m.Epoch, Offset: m.Offset})
				if err != nil {
					fail(conn, "resume failed: "+err.Error())
					return
				}
				if rec.Reason != "" {
					send(conn, RoomOut{Type: "reload", Room: m.Room, Epoch: rec.Position.Epoch, Offset: rec.Position.Offset})
					return
				}
				send(conn, RoomOut{Type: "resumed", Room: m.Room})
			case "leave":
				conn.Unsubscribe(roomTopic(m.Room))
				conn.Unsubscribe(typingTopic(m.Room))
				delete(s.rooms, m.Room)
				send(conn, RoomOut{Type: "left", Room: m.Room})
			case "say":
				if n := utf8.RuneCountInString(m.Text); n == 0 || n > maxText {
					fail(conn, "text must be 1 to 2000 characters")
					return
				}
				msg, err := st().addMessage(ctx, m.Room, s.User, m.Text)
				if err != nil {
					log().Error("chat: storing a message", "room", m.Room, "err", err)
					fail(conn, "not stored")
					return
				}
				// Stored, then published: the offset goes in as it is delivered.
				publish(conn, roomTopic(m.Room), struct {
					Type string `json:"type"`
					Message
				}{"message", msg})
			case "typing":
				publish(conn, typingTopic(m.Room), TypingOut{Type: "typing", Room: m.Room, User: s.User})
			case "pm":
				if !validName(m.To) {
					fail(conn, "to must be a username")
					return
				}
				if n := utf8.RuneCountInString(m.Message); n == 0 || n > maxText {
					fail(conn, "message must be 1 to 2000 characters")
					return
				}
				if ok, err := st().userExists(ctx, m.To); err != nil || !ok {
					fail(conn, "no user "+m.To)
					return
				}
				publish(conn, userTopic(m.To), PMOut{Type: "pm", From: s.User, Message: m.Message})
			default:
				fail(conn, "unknown message type "+strconv.Quote(m.Type))
			}
		},
	}
}

var userName = regexp.MustCompile(`^[a-z0-9_]{3,32}$`)

func validName(s string) bool { return userName.MatchString(s) }
