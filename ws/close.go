package ws

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/lxzan/gws"
)

// StatusCode is a WebSocket close code (RFC 6455 section 7.4): what
// Socket.Close sends and what the Close handler reports.
type StatusCode uint16

// Close codes that graft sends or reports.
const (
	StatusNormalClosure    StatusCode = 1000
	StatusGoingAway        StatusCode = 1001
	StatusProtocolError    StatusCode = 1002
	StatusUnsupportedData  StatusCode = 1003
	StatusNoStatusReceived StatusCode = 1005 // reported, never sent: the peer's close frame had no code
	StatusAbnormalClosure  StatusCode = 1006 // reported, never sent: the connection dropped without a close frame
	StatusInvalidPayload   StatusCode = 1007
	StatusPolicyViolation  StatusCode = 1008
	StatusMessageTooBig    StatusCode = 1009
	StatusInternalError    StatusCode = 1011
)

var statusNames = map[StatusCode]string{
	StatusNormalClosure:    "StatusNormalClosure",
	StatusGoingAway:        "StatusGoingAway",
	StatusProtocolError:    "StatusProtocolError",
	StatusUnsupportedData:  "StatusUnsupportedData",
	StatusNoStatusReceived: "StatusNoStatusReceived",
	StatusAbnormalClosure:  "StatusAbnormalClosure",
	StatusInvalidPayload:   "StatusInvalidPayload",
	StatusPolicyViolation:  "StatusPolicyViolation",
	StatusMessageTooBig:    "StatusMessageTooBig",
	StatusInternalError:    "StatusInternalError",
}

// String returns the constant's name ("StatusGoingAway") or, for a code
// without one, "StatusCode(4000)".
func (c StatusCode) String() string {
	if n, ok := statusNames[c]; ok {
		return n
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// Close starts the closing handshake with code and reason: frames already
// accepted are written first, then the close frame. Later sends are
// dropped. The Close handler runs once the client answered or after a
// timeout.
//
// A reason longer than 123 bytes (the room a close frame leaves) is cut at
// the last whole UTF-8 character that fits. Close returns an error wrapping
// ErrInvalidClose, and leaves the connection open, for a code that may not
// be sent (RFC 6455 section 7.4: below 1000, 1004, 1005, 1006, 1015,
// 1016-2999 and above 4999) or a reason that is not valid UTF-8. Closing a
// connection that is already closing does nothing and returns nil.
func (s *Socket) Close(code StatusCode, reason string) error {
	if !sendableCode(code) {
		return fmt.Errorf("%w: code %d may not be sent; use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)", ErrInvalidClose, code)
	}
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: the reason %q is not valid UTF-8", ErrInvalidClose, reason)
	}
	s.closeWith(code, reason)
	return nil
}

// ErrInvalidClose is wrapped by the error Socket.Close returns for a close
// code that may not be sent or a reason that is not valid UTF-8.
var ErrInvalidClose = errors.New("graft: invalid WebSocket close")

// maxCloseReason is the longest close reason: a control frame carries 125
// bytes, two of which are the code.
const maxCloseReason = 123

// trimReason cuts a valid UTF-8 reason to maxCloseReason bytes without
// splitting a character.
func trimReason(reason string) string {
	if len(reason) <= maxCloseReason {
		return reason
	}
	n := maxCloseReason
	for n > 0 && !utf8.RuneStart(reason[n]) {
		n--
	}
	return reason[:n]
}

// closeWith closes with a sendable code and a valid UTF-8 reason.
func (s *Socket) closeWith(code StatusCode, reason string) {
	s.mu.Lock()
	if s.closeSet || s.wshut || s.gc == nil {
		s.mu.Unlock()
		return
	}
	reason = trimReason(reason)
	s.closeSet, s.closeCode = true, code
	s.setCloseReason(reason)
	s.sendClosed = true
	gc := s.gc
	s.mu.Unlock()
	if err := gc.WriteClose(uint16(code), []byte(reason)); errors.Is(err, gws.ErrConnClosed) {
		// The engine had already closed (the peer closed first): report
		// what actually happened.
		s.mu.Lock()
		s.closeSet = false
		s.mu.Unlock()
	}
}

// setCloseReason records the reason of the server's close, under s.mu;
// an empty one costs nothing.
func (s *Socket) setCloseReason(reason string) {
	if reason != "" {
		s.extra().closeReason = reason
	} else if x := s.x.Load(); x != nil {
		x.closeReason = ""
	}
}

// abort drops the connection without a closing handshake, when it cannot
// take a close frame (a failed write, a shutdown past its deadline).
func (s *Socket) abort(code StatusCode, reason string) {
	s.mu.Lock()
	if !s.closeSet {
		s.closeSet, s.closeCode = true, code
		s.setCloseReason(reason)
	}
	s.sendClosed, s.wshut = true, true
	nc := s.wire.Conn
	s.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

func sendableCode(c StatusCode) bool {
	switch {
	case c < 1000 || c > 4999:
		return false
	case c == 1004 || c == 1005 || c == 1006 || c == 1015:
		return false
	case c >= 1016 && c < 3000:
		return false
	}
	return true
}

// markClosed stops sends once the read side has ended.
func (s *Socket) markClosed() {
	s.mu.Lock()
	s.sendClosed = true
	s.mu.Unlock()
}

// closeInfo returns the code and reason the Close handler reports: the
// server's when it closed first, then the peer's, then what the engine
// sent on a protocol failure, else 1006.
func (s *Socket) closeInfo() (StatusCode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var closeReason, sniffReason string
	var endErr error
	if x := s.x.Load(); x != nil {
		closeReason, sniffReason, endErr = x.closeReason, x.sniffReason, x.endErr
	}
	if s.closeSet {
		return s.closeCode, closeReason
	}
	var ce *gws.CloseError
	if errors.As(endErr, &ce) {
		if s.sniffCode == StatusProtocolError || s.sniffCode == StatusInvalidPayload {
			return s.sniffCode, sniffReason
		}
		if ce.Code == 0 {
			return StatusNoStatusReceived, ""
		}
		return StatusCode(ce.Code), string(ce.Reason)
	}
	if s.sniffCode != 0 && s.sniffCode != StatusNormalClosure {
		return s.sniffCode, sniffReason
	}
	return StatusAbnormalClosure, ""
}

// failedByEngine reports whether the engine closed the connection on a
// protocol failure, sending a close frame the peer has not answered yet.
func (s *Socket) failedByEngine() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var endErr error
	if x := s.x.Load(); x != nil {
		endErr = x.endErr
	}
	var ce *gws.CloseError
	return !s.closeSet && !errors.As(endErr, &ce) && s.sniffCode != 0 && s.sniffCode != StatusNormalClosure
}

// inflateTooLarge is the reason gws gives, with 1011, when a compressed
// message inflates past the payload limit.
const inflateTooLarge = "gws: message too large"

// sniffClose records the code of a close frame the engine writes, and turns
// the engine's 1011 for an oversized inflated message into 1009.
func (s *Socket) sniffClose(b []byte) {
	n := int(b[1] & 0x7f)
	if n < 2 || len(b) < 2+n {
		return
	}
	code := StatusCode(b[2])<<8 | StatusCode(b[3])
	s.mu.Lock()
	if code == 1011 && !s.closeSet && string(b[4:2+n]) == inflateTooLarge {
		// gws v1.9.1 reports a compressed message that inflates past the
		// limit as an internal error; RFC 6455 wants 1009.
		code, b[3] = StatusMessageTooBig, byte(StatusMessageTooBig&0xff)
	}
	if s.sniffCode == 0 {
		s.sniffCode = code
		if n > 2 {
			s.extra().sniffReason = string(b[4 : 2+n])
		}
	}
	s.mu.Unlock()
}
