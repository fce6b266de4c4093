package ws

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/graftgo/graft/internal/jsonstr"
)

// The client protocol of topics with a history (docs/websocket.md,
// "History and recovery"). Every message is a JSON text frame with a
// "type":
//
//	server → client
//	{"type":"pub","topic":"chat","epoch":"9f3c…","offset":42,"data":{…}}       a text publication that is JSON
//	{"type":"pub","topic":"chat","epoch":"9f3c…","offset":42,"text":"hi"}      one that is not
//	{"type":"pub","topic":"chat","epoch":"9f3c…","offset":42,"binary":"AAE="}  a binary one, base64
//	{"type":"subscribed","topic":"chat","epoch":"9f3c…","offset":41,"recovered":true,"missed":3}
//	{"type":"subscribed","topic":"chat","epoch":"77aa…","offset":7,"recovered":false,"reason":"epoch changed"}
//	{"type":"unsubscribed","topic":"chat"}
//	{"type":"error","request":"subscribe","topic":"chat","error":"…"}
//
//	client → server (with Behavior.ClientSubscribe)
//	{"type":"subscribe","topic":"chat"}                               fresh
//	{"type":"subscribe","topic":"chat","epoch":"9f3c…","offset":41}  resume after offset 41
//	{"type":"unsubscribe","topic":"chat"}

// ClientScript is graft-ws.js, the browser client of the protocol: it
// reconnects with backoff and resumes its topics from the last offset it
// saw (docs/websocket.md). Serve it from a route, for example:
//
//	app.GET("/graft-ws.js", func(c *graft.Ctx) error {
//		return c.Bytes(http.StatusOK, "text/javascript; charset=utf-8", ws.ClientScript)
//	})
//
//go:embed client/graft-ws.js
var ClientScript []byte

// pubMessageSize is a capacity hint for appendPub's message.
func pubMessageSize(topic, epoch string, data []byte, op OpCode) int {
	n := 64 + 2*len(topic) + len(epoch) + len(data)
	if op == OpBinary {
		n += len(data)/3 + 4
	} else {
		n += len(data) / 8 // room for a few escapes
	}
	return n
}

// appendPub appends the frame of a history publication: the app's
// HistoryFrame when it set one, else the "pub" message.
func (h *Hub) appendPub(dst []byte, topic string, pos Position, data []byte, op OpCode) []byte {
	if f := h.cfg.HistoryFrame; f != nil {
		return f(dst, topic, pos, data, op)
	}
	return appendPub(dst, topic, pos, data, op)
}

// isJSON is json.Valid without its allocations for text that is not JSON:
// json.Valid builds a syntax error (several allocations) for every chat
// line it turns down. Scalars (true, false, null, numbers) are checked
// here; objects, arrays and strings, which start with a byte few lines of
// text start with, go to json.Valid.
func isJSON(data []byte) bool {
	b := trimJSONSpace(data)
	if len(b) == 0 {
		return false
	}
	switch c := b[0]; {
	case c == '{' || c == '[' || c == '"':
		return json.Valid(b)
	case c == 't':
		return string(b) == "true"
	case c == 'f':
		return string(b) == "false"
	case c == 'n':
		return string(b) == "null"
	case c == '-' || c >= '0' && c <= '9':
		return isJSONNumber(b)
	}
	return false
}

// trimJSONSpace drops JSON white space from both ends of b.
func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// isJSONNumber reports whether b is exactly a JSON number (RFC 8259
// section 6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// appendPub appends the "pub" message of a publication to dst: text that
// is JSON goes in "data" as it is, other text in "text" as a JSON
// string, binary in "binary" as base64.
func appendPub(dst []byte, topic string, pos Position, data []byte, op OpCode) []byte {
	dst = append(dst, `{"type":"pub","topic":`...)
	dst = jsonstr.Append(dst, topic, false)
	dst = append(dst, `,"epoch":`...)
	dst = jsonstr.Append(dst, pos.Epoch, false)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendUint(dst, pos.Offset, 10)
	switch {
	case op == OpBinary:
		dst = append(dst, `,"binary":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, data)
		dst = append(dst, '"')
	case isJSON(data):
		dst = append(dst, `,"data":`...)
		dst = append(dst, data...)
	default:
		dst = append(dst, `,"text":`...)
		dst = jsonstr.Append(dst, string(data), false)
	}
	return append(dst, '}')
}

// clientRequest is a protocol message from a client.
type clientRequest struct {
	Type   string  `json:"type"`
	Topic  string  `json:"topic"`
	Epoch  string  `json:"epoch"`
	Offset *uint64 `json:"offset"`
}

var (
	subscribeMark   = []byte(`"subscribe"`)
	unsubscribeMark = []byte(`"unsubscribe"`)
)

// clientControl handles a protocol request (subscribe, unsubscribe) from
// the client, for routes with Behavior.ClientSubscribe; it reports false
// for any other message, which goes to the Message handler. It runs in the
// connection's read goroutine, holding the handler lock.
func (s *Socket) clientControl(data []byte, op OpCode) bool {
	if op != OpText || len(data) == 0 || data[0] != '{' ||
		!bytes.Contains(data, subscribeMark) && !bytes.Contains(data, unsubscribeMark) {
		return false
	}
	var req clientRequest
	if json.Unmarshal(data, &req) != nil || req.Type != "subscribe" && req.Type != "unsubscribe" {
		return false
	}
	if req.Topic == "" {
		s.sendJSON(appendError(nil, req.Type, "", "no topic"))
		return true
	}
	if req.Type == "unsubscribe" {
		s.Unsubscribe(req.Topic)
		s.sendJSON(appendSimple(nil, "unsubscribed", req.Topic))
		return true
	}
	if err := s.allowSubscribe(req.Topic); err != nil {
		s.sendJSON(appendError(nil, "subscribe", req.Topic, err.Error()))
		return true
	}
	if !s.hub().hasHistory(req.Topic) {
		if _, err := s.TrySubscribe(req.Topic); err != nil {
			s.sendJSON(appendError(nil, "subscribe", req.Topic, err.Error()))
		} else {
			s.sendJSON(appendSimple(nil, "subscribed", req.Topic))
		}
		return true
	}
	var from Position
	if req.Offset != nil && req.Epoch != "" {
		from = Position{Offset: *req.Offset, Epoch: req.Epoch}
	}
	asked := from != (Position{})
	if _, err := s.subscribeFrom(req.Topic, from, func(r Recovery) []byte {
		return appendSubscribed(nil, req.Topic, r, asked)
	}); err != nil {
		s.sendJSON(appendError(nil, "subscribe", req.Topic, err.Error()))
	}
	return true
}

// allowSubscribe runs the route's ClientSubscribe check; a panic in it
// refuses the subscription and closes the connection with 1011.
func (s *Socket) allowSubscribe(topic string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = errClosing
			s.hub().logger.Error("graft: panic in WebSocket handler", "route", s.set.pattern, "conn", s.id, "panic", v)
			s.closeWith(StatusInternalError, "internal error")
		}
	}()
	return s.set.clientSub(s, topic)
}

func (s *Socket) sendJSON(b []byte) { s.Send(b, OpText, false) }

func appendSimple(dst []byte, typ, topic string) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","topic":`...)
	dst = jsonstr.Append(dst, topic, false)
	return append(dst, '}')
}

func appendError(dst []byte, request, topic, msg string) []byte {
	dst = append(dst, `{"type":"error","request":`...)
	dst = jsonstr.Append(dst, request, false)
	dst = append(dst, `,"topic":`...)
	dst = jsonstr.Append(dst, topic, false)
	dst = append(dst, `,"error":`...)
	dst = jsonstr.Append(dst, msg, false)
	return append(dst, '}')
}

func appendSubscribed(dst []byte, topic string, r Recovery, asked bool) []byte {
	dst = append(dst, `{"type":"subscribed","topic":`...)
	dst = jsonstr.Append(dst, topic, false)
	dst = append(dst, `,"epoch":`...)
	dst = jsonstr.Append(dst, r.Position.Epoch, false)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendUint(dst, r.Position.Offset, 10)
	if asked {
		dst = strconv.AppendBool(append(dst, `,"recovered":`...), r.Recovered)
		if r.Recovered {
			dst = strconv.AppendInt(append(dst, `,"missed":`...), int64(r.Missed), 10)
		} else {
			dst = jsonstr.Append(append(dst, `,"reason":`...), r.Reason, false)
		}
	}
	return append(dst, '}')
}
