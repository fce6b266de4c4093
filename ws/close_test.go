package ws

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/graftgo/graft"
)

// Conn.Close cuts a long reason on a character boundary (it used to cut at
// byte 123, splitting a two-byte "é", which clients must fail with 1007),
// and refuses codes that may not be sent, leaving the connection open.
func TestWSCloseReasonAndCodes(t *testing.T) {
	type closeCall struct {
		code   StatusCode
		reason string
	}
	calls := make(chan closeCall, 1)
	errs := make(chan error, 1)
	closed := make(chan closeRecord, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				cc := wsRecv(t, calls, "the close the test asks for")
				errs <- c.Close(cc.code, cc.reason)
				c.Send([]byte("still open"), OpText, false)
			},
			Close: func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		})
	})

	long := strings.Repeat("é", 70) // 140 bytes
	cases := []struct {
		code       StatusCode
		reason     string
		wantReason string
	}{
		{1000, long, strings.Repeat("é", 61)}, // 122 bytes: the 62nd would end at byte 124
		{4000, "€" + strings.Repeat("x", 121) + "€", "€" + strings.Repeat("x", 120)},
		{1001, strings.Repeat("r", 123), strings.Repeat("r", 123)},
		{1013, "", ""},
	}
	for _, tc := range cases {
		c := wsDial(t, app.Addr(), "/ws")
		calls <- closeCall{tc.code, tc.reason}
		c.writeFrame(wsTextFrame("close"))
		if err := wsRecv(t, errs, "Close to return"); err != nil {
			t.Fatalf("Close(%d): %v", tc.code, err)
		}
		_, reason := c.expectClose(tc.code)
		if reason != tc.wantReason || !utf8.ValidString(reason) {
			t.Fatalf("Close(%d, %d bytes): reason %q (%d bytes), want %q", tc.code, len(tc.reason), reason, len(reason), tc.wantReason)
		}
		if got := wsRecv(t, closed, "the Close handler"); got != (closeRecord{tc.code, tc.wantReason}) {
			t.Fatalf("Close handler got %+v", got)
		}
	}

	// Codes that may not be sent, and a reason that is not UTF-8, are
	// refused: Close returns ErrInvalidClose and the connection stays open.
	c := wsDial(t, app.Addr(), "/ws")
	for _, bad := range []closeCall{{0, ""}, {999, ""}, {1004, ""}, {StatusNoStatusReceived, ""}, {StatusAbnormalClosure, ""}, {1015, ""}, {1016, ""}, {2999, ""}, {5000, ""}, {1000, "\xc3"}} {
		calls <- bad
		c.writeFrame(wsTextFrame("close"))
		if err := wsRecv(t, errs, "Close to return"); !errors.Is(err, ErrInvalidClose) {
			t.Fatalf("Close(%d, %q) = %v, want ErrInvalidClose", bad.code, bad.reason, err)
		}
		c.expectMessage(1, []byte("still open"))
	}
	c.writeFrame(wsCloseFrame(1000, ""))
	c.expectClose(1000)
	if got := wsRecv(t, closed, "the Close handler"); got.code != 1000 {
		t.Fatalf("Close handler got %+v", got)
	}
}

// A client's close frame without a status is answered with a close frame
// without a status (RFC 6455 section 5.5.1), and the Close handler reports
// 1005.
func TestWSCloseWithoutStatus(t *testing.T) {
	closed := make(chan closeRecord, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[struct{}]{
			Close: func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsFrame{fin: true, op: 8})
	c.expectClose(StatusNoStatusReceived)
	if got := wsRecv(t, closed, "the Close handler"); got != (closeRecord{StatusNoStatusReceived, ""}) {
		t.Fatalf("Close handler got %+v, want 1005", got)
	}
}
