package broker

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// NodeID identifies one broker instance (one graft node) on the bus, so that
// a node can recognise its own messages when the bus echoes them back.
type NodeID [16]byte

// NewNodeID returns a random NodeID. Each broker instance makes its own, so
// two apps in one process, or one app restarted, are different nodes.
func NewNodeID() NodeID {
	var id NodeID
	rand.Read(id[:]) // never fails, per crypto/rand's documentation
	return id
}

// String returns id in hexadecimal.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// Envelope layout, version 1:
//
//	offset  size  field
//	0       1     magic 'G'
//	1       1     version (1)
//	2       1     flags: bit 0 = binary frame; bit 1 = position follows
//	              the topic; other bits must be 0
//	3       16    origin NodeID
//	19      1-10  topic length, unsigned varint
//	...     n     topic bytes
//	...     1-10  (bit 1) offset, unsigned varint
//	...     1-10  (bit 1) epoch length, unsigned varint
//	...     n     (bit 1) epoch bytes
//	...     rest  payload
const (
	envelopeMagic   = 'G'
	envelopeVersion = 1
	flagBinary      = 1 << 0
	flagPosition    = 1 << 1
	headerLen       = 3 + len(NodeID{})
)

// MaxEnvelopeOverhead is the most bytes an envelope adds to a message's
// topic and payload when the message carries no Position (one with a
// Position adds at most 2*binary.MaxVarintLen64 and the epoch's length).
const MaxEnvelopeOverhead = headerLen + binary.MaxVarintLen64

// ErrMalformedEnvelope is wrapped by every error DecodeEnvelope returns.
var ErrMalformedEnvelope = errors.New("broker: malformed envelope")

// AppendEnvelope appends the envelope of m, sent by origin, to dst and
// returns the extended slice. Bus implementations put the result on the wire
// as one bus message.
func AppendEnvelope(dst []byte, origin NodeID, m Message) []byte {
	var flags byte
	if m.Binary {
		flags |= flagBinary
	}
	positioned := m.Position != (Position{})
	if positioned {
		flags |= flagPosition
	}
	dst = append(dst, envelopeMagic, envelopeVersion, flags)
	dst = append(dst, origin[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Topic)))
	dst = append(dst, m.Topic...)
	if positioned {
		dst = binary.AppendUvarint(dst, m.Position.Offset)
		dst = binary.AppendUvarint(dst, uint64(len(m.Position.Epoch)))
		dst = append(dst, m.Position.Epoch...)
	}
	return append(dst, m.Payload...)
}

// EnvelopeSize returns the length of m's envelope.
func EnvelopeSize(m Message) int {
	n := headerLen + uvarintLen(uint64(len(m.Topic))) + len(m.Topic) + len(m.Payload)
	if m.Position != (Position{}) {
		n += uvarintLen(m.Position.Offset) + uvarintLen(uint64(len(m.Position.Epoch))) + len(m.Position.Epoch)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// DecodeEnvelope decodes an envelope made by AppendEnvelope. The returned
// message's Payload aliases b; copy it if b is reused. Any input that is not
// a well-formed version 1 envelope yields an error wrapping
// ErrMalformedEnvelope, never a panic.
func DecodeEnvelope(b []byte) (origin NodeID, m Message, err error) {
	if len(b) < headerLen {
		return origin, m, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformedEnvelope, len(b), headerLen)
	}
	if b[0] != envelopeMagic {
		return origin, m, fmt.Errorf("%w: bad magic byte %#x", ErrMalformedEnvelope, b[0])
	}
	if b[1] != envelopeVersion {
		return origin, m, fmt.Errorf("%w: unsupported version %d", ErrMalformedEnvelope, b[1])
	}
	if b[2]&^(flagBinary|flagPosition) != 0 {
		return origin, m, fmt.Errorf("%w: unknown flags %#x", ErrMalformedEnvelope, b[2])
	}
	copy(origin[:], b[3:headerLen])
	rest := b[headerLen:]
	n, k := binary.Uvarint(rest)
	if k <= 0 {
		return origin, m, fmt.Errorf("%w: bad topic length", ErrMalformedEnvelope)
	}
	rest = rest[k:]
	if n > uint64(len(rest)) {
		return origin, m, fmt.Errorf("%w: topic length %d exceeds the %d bytes left", ErrMalformedEnvelope, n, len(rest))
	}
	m.Topic = string(rest[:n])
	rest = rest[n:]
	if b[2]&flagPosition != 0 {
		off, k := binary.Uvarint(rest)
		if k <= 0 {
			return origin, m, fmt.Errorf("%w: bad offset", ErrMalformedEnvelope)
		}
		rest = rest[k:]
		n, k := binary.Uvarint(rest)
		if k <= 0 {
			return origin, m, fmt.Errorf("%w: bad epoch length", ErrMalformedEnvelope)
		}
		rest = rest[k:]
		if n > uint64(len(rest)) {
			return origin, m, fmt.Errorf("%w: epoch length %d exceeds the %d bytes left", ErrMalformedEnvelope, n, len(rest))
		}
		m.Position = Position{Offset: off, Epoch: string(rest[:n])}
		rest = rest[n:]
	}
	m.Payload = rest
	m.Binary = b[2]&flagBinary != 0
	return origin, m, nil
}

// EnvelopeBuffers pools the byte slices bus implementations encode
// envelopes into for Publish, so a publish allocates no buffer. The zero
// value is ready to use.
type EnvelopeBuffers struct {
	pool sync.Pool // *[]byte
}

// Encode returns a pooled buffer holding the envelope of m, sent by origin.
// Give it back with Release once the bus no longer reads it.
func (e *EnvelopeBuffers) Encode(origin NodeID, m Message) *[]byte {
	bp, _ := e.pool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = AppendEnvelope((*bp)[:0], origin, m)
	return bp
}

// Release returns a buffer from Encode to the pool.
func (e *EnvelopeBuffers) Release(bp *[]byte) { e.pool.Put(bp) }
