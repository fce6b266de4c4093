package ws

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// Raw-frame conformance tests mirroring the Autobahn test suite's sections
// 1-7, 9, 12 and 13 (the suite itself needs Python 2 or Docker). Each case
// sends frames over a real TCP connection to an echo route and checks what
// comes back: echoed messages, pongs, or a close frame with the code RFC
// 6455 requires.

// step is what a case expects after sending its frames: a message, a pong,
// or a close with a code.
type wsStep struct {
	op      byte
	payload []byte
	close   StatusCode
}

func wsEchoMsg(s string) wsStep    { return wsStep{op: 1, payload: []byte(s)} }
func wsEchoBin(b []byte) wsStep    { return wsStep{op: 2, payload: b} }
func wsPong(s string) wsStep       { return wsStep{op: 10, payload: []byte(s)} }
func wsCloseWithCode(c int) wsStep { return wsStep{close: StatusCode(c)} }
func wsFrag(op byte, s string) wsFrame {
	return wsFrame{op: op, payload: []byte(s)}
}
func wsCont(s string, fin bool) wsFrame { return wsFrame{fin: fin, op: 0, payload: []byte(s)} }

type wsConformanceCase struct {
	name   string
	send   []wsFrame
	expect []wsStep
}

func wsEchoRoute(app *graft.App[graft.Ctx], path string, b Behavior[struct{}]) {
	b.Message = func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, c.Compression()) }
	Route(app, path, b)
}

func wsRunConformance(t *testing.T, addr, path string, cases []wsConformanceCase, headers ...string) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wsDial(t, addr, path, headers...)
			for _, f := range tc.send {
				c.writeFrame(f)
			}
			for _, st := range tc.expect {
				if st.close != 0 {
					c.expectClose(st.close)
					return
				}
				c.expectMessage(st.op, st.payload)
			}
			// A clean end: the server echoes our close.
			c.writeFrame(wsCloseFrame(1000, ""))
			c.expectClose(1000)
		})
	}
}

func TestWSConformance(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		wsEchoRoute(app, "/echo", Behavior[struct{}]{MaxPayloadLength: 1 << 20})
		wsEchoRoute(app, "/small", Behavior[struct{}]{})
	})
	addr := app.Addr()
	big := func(n int) []byte { return bytes.Repeat([]byte("*"), n) }

	// Section 1: framing.
	var s1 []wsConformanceCase
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 1 << 20} {
		s1 = append(s1,
			wsConformanceCase{name: "1.1 text " + wsItoa(n), send: []wsFrame{{fin: true, op: 1, payload: big(n)}}, expect: []wsStep{{op: 1, payload: big(n)}}},
			wsConformanceCase{name: "1.2 binary " + wsItoa(n), send: []wsFrame{wsBinFrame(big(n))}, expect: []wsStep{wsEchoBin(big(n))}},
		)
	}
	t.Run("1 framing", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s1) })

	// Section 2: pings and pongs.
	tenPings := make([]wsFrame, 10)
	tenPongs := make([]wsStep, 10)
	for i := range tenPings {
		tenPings[i] = wsPingFrame("p" + wsItoa(i))
		tenPongs[i] = wsPong("p" + wsItoa(i))
	}
	s2 := []wsConformanceCase{
		{name: "2.1 empty ping", send: []wsFrame{wsPingFrame("")}, expect: []wsStep{wsPong("")}},
		{name: "2.2 ping with text", send: []wsFrame{wsPingFrame("hello")}, expect: []wsStep{wsPong("hello")}},
		{name: "2.3 ping with binary", send: []wsFrame{{fin: true, op: 9, payload: []byte{0, 0xff, 0xfe}}}, expect: []wsStep{{op: 10, payload: []byte{0, 0xff, 0xfe}}}},
		{name: "2.4 ping 125 bytes", send: []wsFrame{{fin: true, op: 9, payload: big(125)}}, expect: []wsStep{{op: 10, payload: big(125)}}},
		{name: "2.5 ping 126 bytes", send: []wsFrame{{fin: true, op: 9, payload: big(126)}}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "2.6 unsolicited wsPong", send: []wsFrame{{fin: true, op: 10, payload: []byte("x")}, wsTextFrame("after")}, expect: []wsStep{wsEchoMsg("after")}},
		{name: "2.8 ten pings", send: tenPings, expect: tenPongs},
		{name: "2.x fragmented ping", send: []wsFrame{{op: 9, payload: []byte("a")}}, expect: []wsStep{wsCloseWithCode(1002)}},
	}
	t.Run("2 ping wsPong", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s2) })

	// Section 3: reserved bits.
	var s3 []wsConformanceCase
	for _, rsv := range []byte{1, 2, 3, 4, 5, 6, 7} {
		s3 = append(s3,
			wsConformanceCase{name: "3 text rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 1, payload: []byte("x")}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "3 binary rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 2, payload: []byte{1}}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "3 ping rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 9}}, expect: []wsStep{wsCloseWithCode(1002)}},
		)
	}
	s3 = append(s3, wsConformanceCase{name: "3.2 rsv after valid message", send: []wsFrame{wsTextFrame("ok"), {fin: true, rsv: 2, op: 1, payload: []byte("x")}}, expect: []wsStep{wsEchoMsg("ok"), wsCloseWithCode(1002)}})
	t.Run("3 reserved bits", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s3) })

	// Section 4: opcodes.
	var s4 []wsConformanceCase
	for _, op := range []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		s4 = append(s4,
			wsConformanceCase{name: "4 opcode " + wsItoa(int(op)), send: []wsFrame{{fin: true, op: op}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "4 opcode with payload " + wsItoa(int(op)), send: []wsFrame{wsTextFrame("ok"), {fin: true, op: op, payload: []byte("x")}}, expect: []wsStep{wsEchoMsg("ok"), wsCloseWithCode(1002)}},
		)
	}
	t.Run("4 opcodes", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s4) })

	// Section 5: fragmentation.
	s5 := []wsConformanceCase{
		{name: "5.1 fragmented ping", send: []wsFrame{{op: 9, payload: []byte("a")}, {fin: true, op: 0, payload: []byte("b")}}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "5.2 fragmented wsPong", send: []wsFrame{{op: 10, payload: []byte("a")}, {fin: true, op: 0, payload: []byte("b")}}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "5.3 text in two fragments", send: []wsFrame{wsFrag(1, "frag"), wsCont("ment", true)}, expect: []wsStep{wsEchoMsg("fragment")}},
		{name: "5.5 text in many fragments", send: []wsFrame{wsFrag(1, "a"), wsCont("b", false), wsCont("c", false), wsCont("", false), wsCont("d", true)}, expect: []wsStep{wsEchoMsg("abcd")}},
		{name: "5.6 ping between fragments", send: []wsFrame{wsFrag(1, "frag"), wsPingFrame("p"), wsCont("ment", true)}, expect: []wsStep{wsPong("p"), wsEchoMsg("fragment")}},
		{name: "5.9 continuation without start", send: []wsFrame{wsCont("x", true), wsTextFrame("y")}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "5.10 non-final continuation without start", send: []wsFrame{wsCont("x", false)}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "5.15 text inside fragmented text", send: []wsFrame{wsFrag(1, "a"), wsTextFrame("b")}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "5.17 fragmented message after complete one", send: []wsFrame{wsTextFrame("a"), wsFrag(1, "b"), wsCont("c", true)}, expect: []wsStep{wsEchoMsg("a"), wsEchoMsg("bc")}},
		{name: "5.19 pings interleaved in fragments", send: []wsFrame{wsFrag(1, "a"), wsPingFrame("1"), wsCont("b", false), wsPingFrame("2"), wsCont("c", true)}, expect: []wsStep{wsPong("1"), wsPong("2"), wsEchoMsg("abc")}},
		{name: "5.x binary fragments", send: []wsFrame{{op: 2, payload: []byte{1}}, {fin: true, op: 0, payload: []byte{2}}}, expect: []wsStep{wsEchoBin([]byte{1, 2})}},
	}
	t.Run("5 fragmentation", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s5) })

	// Section 6: UTF-8 handling.
	hello := "\u03ba\u1f79\u03c3\u03bc\u03b5" // κόσμε, Autobahn's sample
	s6 := []wsConformanceCase{
		{name: "6.1 empty text", send: []wsFrame{wsTextFrame("")}, expect: []wsStep{wsEchoMsg("")}},
		{name: "6.2 valid multibyte", send: []wsFrame{wsTextFrame(hello)}, expect: []wsStep{wsEchoMsg(hello)}},
		{name: "6.2 valid split inside a code point", send: []wsFrame{wsFrag(1, hello[:1]), wsCont(hello[1:5], false), wsCont(hello[5:], true)}, expect: []wsStep{wsEchoMsg(hello)}},
		{name: "6.3 invalid", send: []wsFrame{{fin: true, op: 1, payload: []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.4 invalid across fragments", send: []wsFrame{wsFrag(1, "\xce\xba\xe1\xbd"), wsCont("\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", false), wsCont("edited", true)}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.6 truncated sequence", send: []wsFrame{{fin: true, op: 1, payload: []byte("\xce")}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.8 overlong", send: []wsFrame{{fin: true, op: 1, payload: []byte("\xc0\xaf")}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.10 surrogate", send: []wsFrame{{fin: true, op: 1, payload: []byte("\xed\xa0\x80")}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.12 lone continuation byte", send: []wsFrame{{fin: true, op: 1, payload: []byte{0x80}}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.x max code point", send: []wsFrame{wsTextFrame("\U0010ffff")}, expect: []wsStep{wsEchoMsg("\U0010ffff")}},
		{name: "6.x above max code point", send: []wsFrame{{fin: true, op: 1, payload: []byte("\xf4\x90\x80\x80")}}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "6.x binary is not checked", send: []wsFrame{wsBinFrame([]byte{0xff, 0xfe})}, expect: []wsStep{wsEchoBin([]byte{0xff, 0xfe})}},
	}
	t.Run("6 utf8", func(t *testing.T) { wsRunConformance(t, addr, "/echo", s6) })

	// Section 7: close handling.
	s7 := []wsConformanceCase{
		{name: "7.1 data after close is ignored", send: []wsFrame{wsCloseFrame(1000, ""), wsTextFrame("late")}, expect: []wsStep{wsCloseWithCode(1000)}},
		{name: "7.3 close with one byte", send: []wsFrame{{fin: true, op: 8, payload: []byte{3}}}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "7.3 close with reason", send: []wsFrame{wsCloseFrame(1000, "bye")}, expect: []wsStep{wsCloseWithCode(1000)}},
		{name: "7.3 close reason 123 bytes", send: []wsFrame{wsCloseFrame(1000, strings.Repeat("r", 123))}, expect: []wsStep{wsCloseWithCode(1000)}},
		{name: "7.3 close payload over 125", send: []wsFrame{wsCloseFrame(1000, strings.Repeat("r", 124))}, expect: []wsStep{wsCloseWithCode(1002)}},
		{name: "7.5 close reason invalid utf8", send: []wsFrame{wsCloseFrame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")}, expect: []wsStep{wsCloseWithCode(1007)}},
		{name: "7.x fragmented close", send: []wsFrame{{op: 8, payload: []byte{3, 0xe8}}}, expect: []wsStep{wsCloseWithCode(1002)}},
	}
	// A valid code is answered: codes of RFC 6455 itself with 1000, those
	// from 3000 (registered and private) by echoing them.
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013} {
		s7 = append(s7, wsConformanceCase{name: "7.7 valid code " + wsItoa(code), send: []wsFrame{wsCloseFrame(code, "")}, expect: []wsStep{wsCloseWithCode(1000)}})
	}
	for _, code := range []int{3000, 3999, 4000, 4999} {
		s7 = append(s7, wsConformanceCase{name: "7.7 valid code " + wsItoa(code), send: []wsFrame{wsCloseFrame(code, "")}, expect: []wsStep{wsCloseWithCode(code)}})
	}
	// A close without a status is answered with one without a status.
	s7 = append(s7, wsConformanceCase{name: "7.3 close without status", send: []wsFrame{{fin: true, op: 8}}, expect: []wsStep{wsCloseWithCode(int(StatusNoStatusReceived))}})
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535} {
		s7 = append(s7, wsConformanceCase{name: "7.9 invalid code " + wsItoa(code), send: []wsFrame{wsCloseFrame(code, "")}, expect: []wsStep{wsCloseWithCode(1002)}})
	}
	t.Run("7 close", func(t *testing.T) {
		for _, tc := range s7 {
			t.Run(tc.name, func(t *testing.T) {
				c := wsDial(t, addr, "/echo")
				for _, f := range tc.send {
					c.writeFrame(f)
				}
				c.expectClose(tc.expect[0].close)
			})
		}
	})

	// Section 9: limits (the default max payload, 16 KiB, on /small).
	s9 := []wsConformanceCase{
		{name: "9 at the limit", send: []wsFrame{wsBinFrame(big(16 << 10))}, expect: []wsStep{wsEchoBin(big(16 << 10))}},
		{name: "9 over the limit", send: []wsFrame{wsBinFrame(big(16<<10 + 1))}, expect: []wsStep{wsCloseWithCode(1009)}},
		{name: "9 fragments over the limit", send: []wsFrame{{op: 2, payload: big(10 << 10)}, {op: 0, fin: true, payload: big(10 << 10)}}, expect: []wsStep{wsCloseWithCode(1009)}},
	}
	t.Run("9 limits", func(t *testing.T) { wsRunConformance(t, addr, "/small", s9) })
}

// Sections 12 and 13: permessage-deflate, negotiated without context
// takeover, both directions, several sizes and fragmentation.
func TestWSConformanceCompression(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		wsEchoRoute(app, "/z", Behavior[struct{}]{Compression: true, MaxPayloadLength: 1 << 20})
	})
	addr := app.Addr()
	const ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
	c := wsDial(t, addr, "/z", ext)
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(got, "permessage-deflate") || !strings.Contains(got, "server_no_context_takeover") {
		t.Fatalf("extension answer %q", got)
	}
	for _, n := range []int{0, 16, 64, 256, 1024, 4096, 32768, 131072, 1 << 20} {
		msg := bytes.Repeat([]byte("graft websocket "), n/16+1)[:n]
		// Compressed from the client, echoed compressed by the server.
		c.writeFrame(wsFrame{fin: true, rsv: 4, op: 1, payload: wsDeflate(t, msg)})
		c.expectMessage(1, msg)
		// Uncompressed from the client: fine too.
		c.writeFrame(wsFrame{fin: true, op: 2, payload: msg})
		c.expectMessage(2, msg)
	}
	// A compressed message in fragments: RSV1 on the first frame only.
	z := wsDeflate(t, []byte("fragmented and compressed"))
	c.writeFrame(wsFrame{rsv: 4, op: 1, payload: z[:3]})
	c.writeFrame(wsFrame{fin: true, op: 0, payload: z[3:]})
	c.expectMessage(1, []byte("fragmented and compressed"))
	// Without the extension, RSV1 stays a protocol error.
	plain := wsDial(t, addr, "/z")
	if plain.resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatal("extension negotiated without an offer")
	}
	plain.writeFrame(wsFrame{fin: true, rsv: 4, op: 1, payload: z})
	plain.expectClose(1002)
	c.writeFrame(wsCloseFrame(1000, ""))
	c.expectClose(1000)
}

// With permessage-deflate negotiated the engine (gws v1.9.1) checks no
// reserved bit; graft's own check (framecheck.go) fails these with 1002, and a
// message inflating past the limit closes with 1009, not the engine's 1011.
func TestWSConformanceCompressionLimits(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		wsEchoRoute(app, "/z", Behavior[struct{}]{Compression: true, MaxPayloadLength: 1 << 20})
		wsEchoRoute(app, "/zsmall", Behavior[struct{}]{Compression: true})
	})
	addr := app.Addr()
	const ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
	z := wsDeflate(t, []byte("compressed"))
	var cases []wsConformanceCase
	for _, rsv := range []byte{1, 2, 3, 5, 6, 7} {
		cases = append(cases,
			wsConformanceCase{name: "text rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 1, payload: z}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "binary rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 2, payload: z}}, expect: []wsStep{wsCloseWithCode(1002)}},
		)
	}
	for _, rsv := range []byte{1, 2, 3, 4, 5, 6, 7} {
		cases = append(cases,
			wsConformanceCase{name: "ping rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 9, payload: []byte("p")}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "pong rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 10}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "close rsv " + wsItoa(int(rsv)), send: []wsFrame{{fin: true, rsv: rsv, op: 8, payload: []byte{3, 0xe8}}}, expect: []wsStep{wsCloseWithCode(1002)}},
			wsConformanceCase{name: "continuation rsv " + wsItoa(int(rsv)), send: []wsFrame{{rsv: 4, op: 1, payload: z[:3]}, {fin: true, rsv: rsv, op: 0, payload: z[3:]}}, expect: []wsStep{wsCloseWithCode(1002)}},
		)
	}
	long := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB, 8-byte length
	cases = append(cases,
		wsConformanceCase{name: "rsv after valid messages", send: []wsFrame{{fin: true, rsv: 4, op: 1, payload: z}, wsTextFrame("ok"), wsBinFrame(long), {fin: true, rsv: 2, op: 1, payload: []byte("x")}}, expect: []wsStep{wsEchoMsg("compressed"), wsEchoMsg("ok"), wsEchoBin(long), wsCloseWithCode(1002)}},
		wsConformanceCase{name: "rsv after ping", send: []wsFrame{wsPingFrame("p"), {fin: true, rsv: 4, op: 9}}, expect: []wsStep{wsPong("p"), wsCloseWithCode(1002)}},
		wsConformanceCase{name: "compressed fragments are fine", send: []wsFrame{{rsv: 4, op: 1, payload: z[:3]}, wsPingFrame("p"), {fin: true, op: 0, payload: z[3:]}}, expect: []wsStep{wsPong("p"), wsEchoMsg("compressed")}},
	)
	t.Run("reserved bits", func(t *testing.T) { wsRunConformance(t, addr, "/z", cases, ext) })

	// A header split byte by byte over separate writes, then a bad one.
	t.Run("split headers", func(t *testing.T) {
		c := wsDial(t, addr, "/z", ext)
		var stream []byte
		stream = append(stream, wsEncodeClientFrame(wsFrame{fin: true, rsv: 4, op: 1, payload: z})...)
		stream = append(stream, wsEncodeClientFrame(wsBinFrame(long))...)
		stream = append(stream, wsEncodeClientFrame(wsFrame{fin: true, op: 2, payload: long[:300]})...)
		for i := range stream {
			n := 1
			if i > 20 && i < len(stream)-400 {
				continue // the long payload in one piece below
			}
			if _, err := c.conn.Write(stream[i : i+n]); err != nil {
				t.Fatal(err)
			}
			if i == 20 {
				if _, err := c.conn.Write(stream[21 : len(stream)-400]); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(50 * time.Microsecond)
		}
		c.expectMessage(1, []byte("compressed"))
		c.expectMessage(2, long)
		c.expectMessage(2, long[:300])
		bad := wsEncodeClientFrame(wsFrame{fin: true, rsv: 1, op: 2, payload: []byte("x")})
		for i := range bad {
			if _, err := c.conn.Write(bad[i : i+1]); err != nil {
				break
			}
		}
		c.expectClose(1002)
	})

	// Section 9 with compression: the limit (16 KiB here) applies to the
	// inflated size.
	bomb := wsDeflate(t, bytes.Repeat([]byte{'a'}, 64<<10))
	lim := []wsConformanceCase{
		{name: "inflated at the limit", send: []wsFrame{{fin: true, rsv: 4, op: 2, payload: wsDeflate(t, bytes.Repeat([]byte{'a'}, 16<<10))}}, expect: []wsStep{wsEchoBin(bytes.Repeat([]byte{'a'}, 16<<10))}},
		{name: "inflated over the limit", send: []wsFrame{{fin: true, rsv: 4, op: 2, payload: bomb}}, expect: []wsStep{wsCloseWithCode(1009)}},
		{name: "fragments inflated over the limit", send: []wsFrame{{rsv: 4, op: 2, payload: bomb[:len(bomb)/2]}, {fin: true, op: 0, payload: bomb[len(bomb)/2:]}}, expect: []wsStep{wsCloseWithCode(1009)}},
	}
	t.Run("limits", func(t *testing.T) { wsRunConformance(t, addr, "/zsmall", lim, ext) })
}

func wsItoa(n int) string { return strconv.Itoa(n) }
