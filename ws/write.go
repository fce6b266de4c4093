package ws

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
)

// The write side of a connection.
//
// graft frames messages itself and owns every byte that goes to the
// socket: the engine's own writes (handshake response, close frames) come
// through wireConn into the same queue. A Send first tries to write the
// frame at once with a non-blocking write; whatever the kernel does not take
// waits in the connection's queue, counted in bytes (BufferedAmount), and a
// writer goroutine, started only while there is something to write, writes
// it with blocking writes. So an idle connection has no writer goroutine and
// no buffer, a fast client never sees the queue, and a slow client costs the
// sender nothing but the accounting.

// outFrame is one queued frame (or the unwritten tail of one).
type outFrame struct {
	b   []byte
	buf *[]byte // pooled buffer to recycle once written; nil when shared
}

// frameKind says which rules a queued frame follows.
type frameKind uint8

const (
	frameData         frameKind = iota // Send: backpressure rules
	framePublish                       // a shared published frame: backpressure rules, generation check
	framePublishAsync                  // the same, always written by the writer goroutine
	frameRecovery                      // SubscribeFrom's batch: generation check, accepted over the backpressure limit
	frameControl                       // engine writes, pings, pongs: only refused once the write side is shut
)

// Send sends a message of kind op (OpText or OpBinary), compressed when
// compress is set and the client negotiated permessage-deflate (and the
// result is smaller). Text must be valid UTF-8; Send does not check.
//
// Send never blocks on the client. As in uWebSockets, it returns
// SendDropped without sending when the connection already had more than
// MaxBackpressure bytes buffered (then the Dropped handler runs and, with
// CloseOnBackpressureLimit, the connection is closed with 1008) or is
// closing;
// otherwise it returns SendSuccess when the operating system took the whole
// frame and SendBackpressure when some of it had to be buffered. After
// SendBackpressure or SendDropped, the Drain handler runs once the buffer
// has emptied. On a connection that cannot be written without blocking
// (TLS), every frame goes through the buffer and SendBackpressure means the
// buffer is over MaxBackpressure.
func (s *Socket) Send(data []byte, op OpCode, compress bool) SendStatus {
	if op != OpText && op != OpBinary {
		return SendDropped
	}
	buf := getFrameBuf(len(data) + maxFrameHeader)
	b := *buf
	var out []byte
	if compress && s.deflate && len(data) > 0 {
		out, b = appendDeflatedFrame(b[:0], op, data)
	}
	if out == nil {
		b = appendFrame(b[:0], op, false, data)
		out = b
	}
	*buf = b
	st := s.enqueue(out, buf, frameData, 0)
	if st == sendOverLimit {
		s.overLimit(data, op)
		return SendDropped
	}
	return st
}

// sendControl queues a control frame (ping 0x9, pong 0xA).
func (s *Socket) sendControl(op byte, payload []byte) {
	if len(payload) > 125 {
		payload = payload[:125]
	}
	buf := getFrameBuf(len(payload) + 2)
	b := append((*buf)[:0], 0x80|op, byte(len(payload)))
	b = append(b, payload...)
	*buf = b
	s.enqueue(b, buf, frameControl, 0)
}

// sendOverLimit is what enqueue returns for a message it dropped because
// the connection was over its backpressure limit; the caller reports it
// (overLimit) and returns SendDropped.
const sendOverLimit SendStatus = 255

// enqueue writes frame b now if it can, and queues what is left. buf, if
// not nil, is recycled once the frame is written. gen is checked for
// published frames, whose subscriber list may be older than the
// connection's current life. It counts data frames in the connection's
// statistics. When it returns sendOverLimit with a Dropped handler set, it
// holds s.writers for the caller's overLimit call, so that the connection
// is not released before the handler ran.
func (s *Socket) enqueue(b []byte, buf *[]byte, kind frameKind, gen uint32) SendStatus {
	size := len(b)
	s.mu.Lock()
	if s.wshut || (kind != frameControl && s.sendClosed) || (kind >= framePublish && kind <= frameRecovery && s.gen != gen) || s.wire.Conn == nil {
		s.mu.Unlock()
		putFrameBuf(buf)
		return SendDropped
	}
	limit := s.set.maxBackpressure
	if kind != frameControl && kind != frameRecovery && limit > 0 && s.buffered > limit {
		s.needDrain = true
		x := s.extra()
		x.droppedMessages++
		x.droppedBytes += uint64(size)
		if s.set.dropped != nil {
			s.writers.Add(1) // released by overLimit
		}
		s.mu.Unlock()
		putFrameBuf(buf)
		return sendOverLimit
	}
	if kind != frameControl {
		s.sent[0]++
		s.sent[1] += uint64(size)
	}
	if kind != frameControl && s.set.resetIdleOnSend {
		s.touch()
	}
	if !s.active && len(s.queue) == 0 && s.rc != nil && kind != framePublishAsync {
		n, err := s.writeNow(b)
		if err != nil {
			s.mu.Unlock()
			putFrameBuf(buf)
			s.abort(StatusAbnormalClosure, "")
			return SendDropped
		}
		if n == len(b) {
			s.mu.Unlock()
			putFrameBuf(buf)
			return SendSuccess
		}
		b = b[n:]
	}
	s.queue = append(s.queue, outFrame{b: b, buf: buf})
	s.buffered += len(b)
	st := SendBackpressure
	if s.rc == nil && (limit <= 0 || s.buffered <= limit) {
		st = SendSuccess
	}
	switch {
	case kind == frameControl:
	case kind == framePublishAsync:
		// Queued by choice, not because the client is slow: only a
		// buffer over the limit calls for a Drain.
		if limit > 0 && s.buffered > limit {
			s.needDrain = true
			s.countBackpressured(size)
		}
	case st == SendBackpressure:
		s.needDrain = true
		s.countBackpressured(size)
	}
	if !s.active {
		s.active = true
		s.writers.Add(1)
		go s.writeLoop()
	}
	s.mu.Unlock()
	return st
}

// countBackpressured counts a message that waits in the buffer because
// the client is not keeping up. s.mu is held.
func (s *Socket) countBackpressured(n int) {
	x := s.extra()
	x.backpressuredMessages++
	x.backpressuredBytes += uint64(n)
}

// overLimit follows a message enqueue dropped because the connection was
// over its backpressure limit: it runs the Dropped handler, then, with
// CloseOnBackpressureLimit, closes the connection with 1008.
func (s *Socket) overLimit(data []byte, op OpCode) {
	if s.set.dropped != nil {
		func() {
			defer s.writers.Done()
			defer s.recoverCallback(true)
			s.set.dropped(s, data, op)
		}()
	}
	if s.set.closeOnLimit {
		s.closeWith(StatusPolicyViolation, "backpressure limit")
	}
}

// writeNow writes b with one non-blocking write and returns how much the
// kernel took. The caller holds s.mu and no writer goroutine is active.
func (s *Socket) writeNow(b []byte) (int, error) {
	s.rawBuf = b
	err := s.rc.Write(s.rawFn)
	n, werr := s.rawN, s.rawErr
	s.rawBuf, s.rawErr = nil, nil
	if err != nil {
		return 0, err
	}
	return n, werr
}

// writeLoop writes the queue with blocking writes until it is empty, then
// shuts the write side if the connection is closing, runs Drain if a
// sender saw backpressure, and exits.
func (s *Socket) writeLoop() {
	defer s.writers.Done()
	var bufs net.Buffers
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.active = false
			shut := s.wshut
			drain := s.needDrain && s.set.hasDrain && !s.sendClosed
			s.needDrain = false
			s.mu.Unlock()
			if shut {
				s.closeWriteSide()
			}
			if drain {
				s.callDrain()
			}
			return
		}
		q := s.queue
		s.queue = nil
		nc := s.wire.Conn
		s.mu.Unlock()

		bufs = bufs[:0]
		total := 0
		for _, f := range q {
			bufs = append(bufs, f.b)
			total += len(f.b)
		}
		_, err := bufs.WriteTo(nc)
		for i := range q {
			putFrameBuf(q[i].buf)
			q[i] = outFrame{}
		}
		s.mu.Lock()
		s.buffered -= total
		if err != nil {
			for _, f := range s.queue {
				putFrameBuf(f.buf)
			}
			s.queue = nil
			s.buffered = 0
			s.active = false
			s.wshut, s.sendClosed = true, true
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.mu.Unlock()
	}
}

// shutdownWrites stops accepting frames and shuts the write side once the
// queue is written, bounding both that and the wait for the peer's close
// frame by wsCloseTimeout.
func (s *Socket) shutdownWrites() {
	s.mu.Lock()
	if s.wshut || s.wire.Conn == nil {
		s.mu.Unlock()
		return
	}
	s.wshut, s.sendClosed = true, true
	active := s.active
	nc := s.wire.Conn
	s.mu.Unlock()
	deadline := time.Now().Add(wsCloseTimeout)
	_ = nc.SetWriteDeadline(deadline)
	_ = nc.SetReadDeadline(deadline)
	if !active {
		s.closeWriteSide()
	}
}

// closeWriteSide half-closes the connection (FIN after the close frame),
// so the peer reads everything before the end.
func (s *Socket) closeWriteSide() {
	s.mu.Lock()
	nc := s.wire.Conn
	s.mu.Unlock()
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = nc.Close()
}

// finishWrites ends the connection: it waits for the writer and closes.
// With linger set (the engine failed the connection and the peer has not
// answered its close frame yet) it first reads what the peer still sends,
// until its close frame, its end or the close timeout, so that the peer
// gets our close frame rather than a reset.
func (s *Socket) finishWrites(linger bool) {
	s.shutdownWrites()
	s.writers.Wait()
	s.mu.Lock()
	nc := s.wire.Conn
	s.mu.Unlock()
	if nc == nil {
		return
	}
	if linger {
		var sink [512]byte
		for {
			n, err := nc.Read(sink[:])
			if err != nil || n > 0 && sink[0]&0x0f == 0x8 {
				break
			}
		}
	}
	_ = nc.Close()
}

// Frames.

const maxFrameHeader = 10

// appendFrame appends an unmasked, final frame.
func appendFrame(dst []byte, op OpCode, rsv1 bool, payload []byte) []byte {
	dst = appendFrameHeader(dst, op, rsv1, len(payload))
	return append(dst, payload...)
}

func appendFrameHeader(dst []byte, op OpCode, rsv1 bool, n int) []byte {
	b0 := 0x80 | byte(op)
	if rsv1 {
		b0 |= 0x40
	}
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		return append(dst, b0, 126, byte(n>>8), byte(n))
	}
	return append(dst, b0, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendDeflatedFrame appends a compressed frame of payload to dst (which
// must be empty) and returns the frame, which may start after dst's start,
// and the grown buffer. It returns a nil frame when compression does not
// make the payload smaller.
func appendDeflatedFrame(dst []byte, op OpCode, payload []byte) (frame, grown []byte) {
	w := flateWriters.Get().(*flateWriter)
	w.out = append(dst[:0], zeroHeader[:]...)
	w.fw.Reset(w)
	_, _ = w.fw.Write(payload)
	_ = w.fw.Flush()
	out := w.out
	w.out = nil
	flateWriters.Put(w)
	// A sync flush ends with an empty stored block, 00 00 ff ff, which
	// permessage-deflate leaves out (RFC 7692 section 7.2.1).
	if n := len(out); n >= maxFrameHeader+4 && out[n-4] == 0 && out[n-3] == 0 && out[n-2] == 0xff && out[n-1] == 0xff {
		out = out[:n-4]
	}
	clen := len(out) - maxFrameHeader
	if clen >= len(payload) {
		return nil, out
	}
	var hdr [maxFrameHeader]byte
	h := appendFrameHeader(hdr[:0], op, true, clen)
	start := maxFrameHeader - len(h)
	copy(out[start:], h)
	return out[start:], out
}

var zeroHeader [maxFrameHeader]byte

type flateWriter struct {
	fw  *flate.Writer
	out []byte
}

func (w *flateWriter) Write(p []byte) (int, error) {
	w.out = append(w.out, p...)
	return len(p), nil
}

var flateWriters = sync.Pool{New: func() any {
	w := &flateWriter{}
	w.fw, _ = flate.NewWriter(io.Discard, flate.BestSpeed)
	return w
}}

// Frame buffers for Send and engine writes, recycled once written.
const maxPooledFrame = 64 << 10

var frameBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 512)
	return &b
}}

func getFrameBuf(n int) *[]byte {
	if n > maxPooledFrame {
		b := make([]byte, 0, n)
		return &b
	}
	buf := frameBufs.Get().(*[]byte)
	if cap(*buf) < n {
		*buf = make([]byte, 0, n)
	}
	return buf
}

func putFrameBuf(buf *[]byte) {
	if buf == nil || cap(*buf) > maxPooledFrame {
		return
	}
	*buf = (*buf)[:0]
	frameBufs.Put(buf)
}

// pubFrame is a published message framed once for all subscribers: plain,
// and compressed for those that negotiated permessage-deflate.
type pubFrame struct {
	op       OpCode
	data     []byte
	plain    []byte
	deflated []byte
	tried    bool
}

// publishCompressMin is the size from which published messages are
// compressed for subscribers that negotiated permessage-deflate.
const publishCompressMin = 512

func (f *pubFrame) frameFor(s *Socket) []byte {
	if s.deflate && len(f.data) >= publishCompressMin {
		if !f.tried {
			f.tried = true
			f.deflated, _ = appendDeflatedFrame(nil, f.op, f.data)
		}
		if f.deflated != nil {
			return f.deflated
		}
	}
	if f.plain == nil {
		f.plain = appendFrame(make([]byte, 0, len(f.data)+maxFrameHeader), f.op, false, f.data)
	}
	return f.plain
}
