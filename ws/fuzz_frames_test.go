package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/graftgo/graft"
)

// fzMax is the fuzzed route's MaxPayloadLength: small, so inputs reach it.
const fzMax = 1024

// fzMsg is one message: what OnMessage got, or what the reference parser
// extracts.
type fzMsg struct {
	op      byte
	payload string
}

// fzEnd is how a byte stream ends, by the reference parser.
type fzEnd struct {
	// kind: 'f' the server fails the connection with code; 'c' the client
	// closed, the server answers with code (StatusNoStatusReceived: a close
	// frame without a status); 'i' the stream stops inside a frame or
	// between frames, with no close: the server waits, and the connection
	// drops when the client goes (1006).
	kind byte
	code StatusCode
	why  string
}

// fzRef is the reference: the messages, pings and end of a client byte
// stream, read by RFC 6455 section 5 (framing, masking, fragmentation,
// control frames) and 7.4 (close codes), with the route's limit:
//
//   - a 64-bit length with its most significant bit set, or a length not in
//     its shortest form ("the minimal number of bytes MUST be used"): 1002,
//     once the length is read;
//   - a frame header is read whole (2 bytes, the extended length, the mask
//     key), then judged, in this order: a frame longer than the limit: 1009 (the
//     limit goes first: such a frame is never read); any reserved bit (no
//     extension is negotiated), an unmasked frame, a control or reserved
//     opcode (3-7, 11-15) on a fragment or with more than 125 bytes: 1002;
//   - then the payload is read, and the frame judged on what needs it
//     whole: a reserved opcode, a continuation outside a fragmented message
//     or a new data frame inside one: 1002 (the RFC says to fail, not when:
//     a stream cut inside such a frame's payload ends as a cut stream); a
//     message whose fragments add up past the limit: 1009;
//   - a text message that is not valid UTF-8 once whole: 1007;
//   - a close frame with one byte: 1002; with a reason that is not UTF-8:
//     1007; with a code that may not be sent (below 1000, 1004-1006,
//     1014-2999, above 4999; see fzValidCode): 1002 (a frame with both faults: 1007; the RFC
//     names no order); else the server answers 1000 (RFC 6455's codes)
//     or the code itself (3000-4999), or no status for an empty close;
//     nothing after a close frame is read.
func fzRef(b []byte) (msgs []fzMsg, pings []string, end fzEnd) {
	fail := func(code StatusCode, why string) ([]fzMsg, []string, fzEnd) {
		return msgs, pings, fzEnd{'f', code, why}
	}
	var frag []byte
	var fragOp byte // 0: no fragmented message under way
	for {
		if len(b) < 2 {
			return msgs, pings, fzEnd{kind: 'i'}
		}
		fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, b[0]&0x0f
		masked, n := b[1]&0x80 != 0, uint64(b[1]&0x7f)
		h := 2
		switch n {
		case 126:
			h += 2
		case 127:
			h += 8
		}
		if len(b) < h {
			return msgs, pings, fzEnd{kind: 'i'}
		}
		switch n {
		case 126:
			if n = uint64(binary.BigEndian.Uint16(b[2:])); n <= 125 {
				return fail(StatusProtocolError, "16-bit length not in its shortest form")
			}
		case 127:
			if n = binary.BigEndian.Uint64(b[2:]); n>>63 != 0 {
				return fail(StatusProtocolError, "64-bit length with the top bit set")
			} else if n <= 0xffff {
				return fail(StatusProtocolError, "64-bit length not in its shortest form")
			}
		}
		if masked {
			h += 4
		}
		if len(b) < h {
			return msgs, pings, fzEnd{kind: 'i'}
		}
		control := op >= 3 // control and reserved opcodes: never fragmented, at most 125 bytes
		switch {
		case n > fzMax:
			return fail(StatusMessageTooBig, "frame over the limit")
		case rsv != 0:
			return fail(StatusProtocolError, "reserved bit")
		case !masked:
			return fail(StatusProtocolError, "unmasked")
		case control && !fin:
			return fail(StatusProtocolError, "fragmented control frame")
		case control && n > 125:
			return fail(StatusProtocolError, "control frame over 125 bytes")
		}
		key := b[h-4 : h]
		b = b[h:]
		if uint64(len(b)) < n {
			return msgs, pings, fzEnd{kind: 'i'}
		}
		p := bytes.Clone(b[:n])
		b = b[n:]
		for i := range p {
			p[i] ^= key[i%4]
		}
		if op >= 3 && op <= 7 || op >= 11 {
			return fail(StatusProtocolError, "reserved opcode")
		}
		switch op {
		case 9:
			pings = append(pings, string(p))
			continue
		case 10:
			continue
		case 8:
			switch {
			case len(p) == 0:
				return msgs, pings, fzEnd{'c', StatusNoStatusReceived, "empty close"}
			case len(p) == 1:
				return fail(StatusProtocolError, "one-byte close")
			}
			code := StatusCode(binary.BigEndian.Uint16(p))
			switch {
			case !utf8.Valid(p[2:]):
				return fail(StatusInvalidPayload, "close reason not UTF-8")
			case !fzValidCode(code):
				return fail(StatusProtocolError, "close code "+strconv.Itoa(int(code)))
			case code >= 3000:
				return msgs, pings, fzEnd{'c', code, "close"}
			}
			return msgs, pings, fzEnd{'c', StatusNormalClosure, "close"}
		}
		switch {
		case op == 0 && fragOp == 0:
			return fail(StatusProtocolError, "continuation outside a message")
		case op != 0 && fragOp != 0:
			return fail(StatusProtocolError, "data frame inside a fragmented message")
		case op != 0:
			fragOp, frag = op, nil
		}
		frag = append(frag, p...)
		if len(frag) > fzMax {
			return fail(StatusMessageTooBig, "message over the limit")
		}
		if !fin {
			continue
		}
		if fragOp == 1 && !utf8.Valid(frag) {
			return fail(StatusInvalidPayload, "text not UTF-8")
		}
		msgs = append(msgs, fzMsg{fragOp, string(frag)})
		fragOp, frag = 0, nil
	}
}

// fzValidCode: the codes a close frame may carry (RFC 6455 7.4.1 and the
// IANA registry: 1000-1003, 1007-1014; 3000-4999), less 1014 (Bad
// Gateway, registered after RFC 6455), which the engine (gws v1.9.1)
// refuses with 1002, though Socket.Close may send it.
func fzValidCode(c StatusCode) bool {
	return c >= 1000 && c <= 1003 || c >= 1007 && c <= 1013 || c >= 3000 && c <= 4999
}

// fzConn is what the server saw of one fuzzed connection.
type fzConn struct {
	mu   sync.Mutex
	msgs []fzMsg
	bad  string // a message OnMessage should never have had
	code StatusCode
	done chan struct{}
}

type fzServer struct {
	addr  string
	mu    sync.Mutex
	conns map[string]*fzConn
	next  atomic.Int64
}

func (s *fzServer) conn(id string) *fzConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// fzStart serves a recording route, /fz (OnMessage records, the Close
// handler reports the code), and an echo route, /echo, on a real loopback
// listener.
func fzStart(t testing.TB) *fzServer {
	s := &fzServer{conns: map[string]*fzConn{}}
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/fz", Behavior[*fzConn]{
			MaxPayloadLength: fzMax,
			Upgrade: func(c *graft.Ctx) (*fzConn, error) {
				fc := s.conn(c.Query("id"))
				if fc == nil {
					return nil, graft.NewError(400, "no such id")
				}
				return fc, nil
			},
			Message: func(c *Conn[*fzConn], data []byte, op OpCode) {
				fc := *c.Data()
				fc.mu.Lock()
				defer fc.mu.Unlock()
				switch {
				case len(data) > fzMax:
					fc.bad = fmt.Sprintf("a %d-byte message past the %d limit", len(data), fzMax)
				case op == OpText && !utf8.Valid(data):
					fc.bad = fmt.Sprintf("a text message that is not UTF-8: %q", data)
				case op != OpText && op != OpBinary:
					fc.bad = fmt.Sprintf("a message with opcode %d", op)
				}
				fc.msgs = append(fc.msgs, fzMsg{byte(op), string(data)})
			},
			Close: func(c *Conn[*fzConn], code StatusCode, reason string) {
				fc := *c.Data()
				fc.mu.Lock()
				fc.code = code
				fc.mu.Unlock()
				close(fc.done)
			},
		})
		wsEchoRoute(app, "/echo", Behavior[struct{}]{})
	})
	s.addr = app.Addr()
	return s
}

// FuzzWSFrames writes any byte stream to the server after a valid
// handshake, over a real TCP connection (loopback), and holds what happens
// to the reference parser fzRef: OnMessage gets exactly the messages the
// reference extracts (text ones valid UTF-8, all within the limit), each
// ping before the end is answered with its payload, and the connection ends
// as the reference says: a close frame with 1002, 1007 or 1009 when the
// server fails it, the answer to the client's close, or, for a stream that
// stops inside or between frames, nothing until the client goes (the Close
// handler then reports 1006). After each input a fresh connection to an
// echo route must echo: the server stays healthy.
func FuzzWSFrames(f *testing.F) {
	for _, s := range fzSeeds() {
		f.Add(s)
	}
	srv := fzStart(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		fzRun(t, srv, stream)
	})
}

// fzSeeds are frame streams masked with a zero key (so that the fuzzer's
// mutations of the payload are the payload) and a few with real keys.
func fzSeeds() [][]byte {
	fr := func(b0 byte, p string) []byte { return fzFrame(b0, []byte(p), [4]byte{}) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	closeF := func(code int, reason string) []byte {
		return fr(0x88, string(binary.BigEndian.AppendUint16(nil, uint16(code)))+reason)
	}
	big := string(bytes.Repeat([]byte("x"), fzMax))
	return [][]byte{
		nil,
		cat(fr(0x81, "hello"), closeF(1000, "")),
		cat(fr(0x82, "\x00\xff"), fr(0x89, "p"), fr(0x8a, "q"), closeF(3000, "bye")),
		cat(fr(0x01, "frag"), fr(0x89, "ping"), fr(0x00, "me"), fr(0x80, "nt"), closeF(1001, "")),
		cat(fr(0x02, "a"), fr(0x80, "b"), fr(0x81, "κόσμε")),
		fr(0x81, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
		cat(fr(0x01, "\xce"), fr(0x80, "\xba")),
		fr(0x82, big),
		cat(fr(0x82, big), fr(0x82, big+"x")),
		cat(fr(0x02, big[:600]), fr(0x80, big[:600])),
		fr(0xc1, "rsv1"),
		fr(0x83, "op3"),
		fr(0x09, "fragmented ping"),
		fr(0x89, string(bytes.Repeat([]byte("p"), 126))),
		fr(0x80, "orphan continuation"),
		cat(fr(0x01, "a"), fr(0x81, "b")),
		fr(0x88, "\x03"),
		closeF(999, ""),
		closeF(1005, ""),
		closeF(1000, "\xff"),
		fr(0x88, ""),
		cat(closeF(1000, ""), fr(0x81, "after close")),
		{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'},                                        // unmasked
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                          // 64-bit length, top bit set
		{0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},                             // 4 GiB
		{0x82, 0xfe, 0x00, 0x05, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'},                // non-minimal 16-bit length
		{0x89, 0xfe, 0x00, 0x05, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'},                // non-minimal, on a ping
		{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'}, // non-minimal 64-bit length
		{0x81, 0x85, 1, 2, 3, 4},                                                     // cut inside the payload
		{0x81},                                                                       // cut inside the header
		fzFrame(0x81, []byte("masked with a key"), [4]byte{0x37, 0xfa, 0x21, 0x3d}),
	}
}

// fzFrame encodes one client frame with first byte b0 and mask key key,
// with the shortest length.
func fzFrame(b0 byte, p []byte, key [4]byte) []byte {
	out := []byte{b0}
	switch n := len(p); {
	case n <= 125:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	out = append(out, key[:]...)
	for i, c := range p {
		out = append(out, c^key[i%4])
	}
	return out
}

// fzRun sends one stream and checks the outcome against fzRef.
func fzRun(t *testing.T, srv *fzServer, stream []byte) {
	t.Helper()
	wantMsgs, wantPings, end := fzRef(stream)
	id := strconv.FormatInt(srv.next.Add(1), 10)
	fc := &fzConn{done: make(chan struct{})}
	srv.mu.Lock()
	srv.conns[id] = fc
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.conns, id)
		srv.mu.Unlock()
	}()
	c, err := wsDialErr(srv.addr, "/fz?id="+id)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.t = t
	defer c.conn.Close()
	// Write in the background (the server may stop reading early) and
	// half-close, so that a stream that stops mid-frame reaches EOF.
	wrote := make(chan struct{})
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	go func() {
		defer close(wrote)
		_, _ = c.conn.Write(stream)
		_ = c.conn.(*net.TCPConn).CloseWrite()
	}()
	var pongs []string
	var closeFrame *wsFrame
	for closeFrame == nil {
		fr, err := c.readFrame(5 * time.Second)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			t.Fatalf("reading the server's frames (expecting %+v): %v", end, err)
		}
		switch fr.op {
		case 10:
			pongs = append(pongs, string(fr.payload))
		case 8:
			closeFrame = &fr
		default:
			t.Fatalf("the server sent a frame with opcode %d", fr.op)
		}
	}
	select {
	case <-fc.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the Close handler did not run within 5s of the stream %q (expecting %+v)", wsTrunc(stream), end)
	}
	<-wrote
	fc.mu.Lock()
	gotMsgs, code, bad := fc.msgs, fc.code, fc.bad
	fc.mu.Unlock()
	if bad != "" {
		t.Fatalf("OnMessage got %s", bad)
	}
	if !fzSameMsgs(gotMsgs, wantMsgs) {
		t.Fatalf("stream %q: OnMessage got %s, the reference extracts %s (end %+v)", wsTrunc(stream), fzShow(gotMsgs), fzShow(wantMsgs), end)
	}
	if len(pongs) > len(wantPings) || !fzPrefix(pongs, wantPings) {
		t.Fatalf("stream %q: pongs %q for pings %q", wsTrunc(stream), pongs, wantPings)
	}
	switch end.kind {
	case 'i':
		// The client half-closed after the stream: the engine may answer
		// its EOF with a 1000 close ("EOF"), the peer being gone anyway;
		// nothing else.
		if closeFrame != nil && (len(closeFrame.payload) < 2 || binary.BigEndian.Uint16(closeFrame.payload) != 1000) {
			t.Fatalf("stream %q stops inside or between frames; the server closed with %q", wsTrunc(stream), closeFrame.payload)
		}
		if code != StatusAbnormalClosure {
			t.Fatalf("stream %q stops with no close; the Close handler reports %d, want 1006", wsTrunc(stream), code)
		}
		if len(pongs) != len(wantPings) {
			t.Fatalf("stream %q: pongs %q for pings %q", wsTrunc(stream), pongs, wantPings)
		}
	default:
		if closeFrame == nil {
			t.Fatalf("stream %q: no close frame; want %d (%s)", wsTrunc(stream), end.code, end.why)
		}
		got := StatusNoStatusReceived
		if len(closeFrame.payload) >= 2 {
			got = StatusCode(binary.BigEndian.Uint16(closeFrame.payload))
		}
		if got != end.code {
			t.Fatalf("stream %q: the server closed with %d %q; the reference says %d (%s)", wsTrunc(stream), got, closeFrame.payload, end.code, end.why)
		}
		if end.kind == 'f' && code != end.code {
			t.Fatalf("stream %q: the Close handler reports %d; want %d (%s)", wsTrunc(stream), code, end.code, end.why)
		}
		if end.kind == 'c' && len(pongs) != len(wantPings) {
			t.Fatalf("stream %q: pongs %q for pings %q", wsTrunc(stream), pongs, wantPings)
		}
	}
	fzHealthy(t, srv.addr)
}

// fzHealthy: a fresh connection to the echo route echoes and closes
// cleanly.
func fzHealthy(t *testing.T, addr string) {
	t.Helper()
	c := wsDial(t, addr, "/echo")
	c.writeFrame(wsTextFrame("still here"))
	c.expectMessage(1, []byte("still here"))
	c.writeFrame(wsCloseFrame(1000, ""))
	c.expectClose(1000)
	c.conn.Close()
}

func fzSameMsgs(a, b []fzMsg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fzPrefix(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fzShow(m []fzMsg) string {
	var b bytes.Buffer
	for _, x := range m {
		fmt.Fprintf(&b, "[%d %q] ", x.op, wsTrunc([]byte(x.payload)))
	}
	return b.String()
}

// TestWSFramesReference checks the reference parser on streams whose
// outcome is known, so that FuzzWSFrames compares against something right.
func TestWSFramesReference(t *testing.T) {
	fr := func(b0 byte, p string) []byte { return fzFrame(b0, []byte(p), [4]byte{1, 2, 3, 4}) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		stream []byte
		msgs   []fzMsg
		pings  int
		end    fzEnd
	}{
		{cat(fr(0x81, "a"), fr(0x01, "b"), fr(0x89, "p"), fr(0x80, "c"), fr(0x88, "\x03\xe8")), []fzMsg{{1, "a"}, {1, "bc"}}, 1, fzEnd{kind: 'c', code: 1000}},
		{fr(0x88, "\x0f\xa0"), nil, 0, fzEnd{kind: 'c', code: 4000}},
		{fr(0x88, ""), nil, 0, fzEnd{kind: 'c', code: StatusNoStatusReceived}},
		{cat(fr(0x81, "a"), fr(0x82, "b")[:3]), []fzMsg{{1, "a"}}, 0, fzEnd{kind: 'i'}},
		{fr(0x81, "\xff"), nil, 0, fzEnd{kind: 'f', code: 1007}},
		{fr(0x91, "x"), nil, 0, fzEnd{kind: 'f', code: 1002}},
		{fr(0x8b, "x"), nil, 0, fzEnd{kind: 'f', code: 1002}},
		{fr(0x82, string(make([]byte, fzMax+1))), nil, 0, fzEnd{kind: 'f', code: 1009}},
		{cat(fr(0x02, string(make([]byte, fzMax))), fr(0x80, "x")), nil, 0, fzEnd{kind: 'f', code: 1009}},
		{[]byte{0x81, 0x01, 'x'}, nil, 0, fzEnd{kind: 'f', code: 1002}},
		{fr(0x88, "\x03\xe8\xff"), nil, 0, fzEnd{kind: 'f', code: 1007}},
		{fr(0x88, "\x03\xed"), nil, 0, fzEnd{kind: 'f', code: 1002}},
	}
	for i, tc := range cases {
		msgs, pings, end := fzRef(tc.stream)
		end.why = ""
		if !fzSameMsgs(msgs, tc.msgs) || len(pings) != tc.pings || end != tc.end {
			t.Errorf("case %d: %s %d pings %+v; want %s %d %+v", i, fzShow(msgs), len(pings), end, fzShow(tc.msgs), tc.pings, tc.end)
		}
	}
}
