package ws

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/graftgo/graft/broker"
)

// The presence messages nodes exchange on the bus topic presenceTopic,
// version 1. Every message starts with
//
//	offset  size  field
//	0       1     magic 'P'
//	1       1     version (1)
//	2       1     kind (below)
//	3       16    sender's node id
//
// and goes on with, per kind (numbers are unsigned varints, strings a
// length and the bytes):
//
//	'H' heartbeat  seq                the sender's last change, sent every beat
//	'D' changes    first, count,      count changes numbered first, first+1, …;
//	               count × (op, topic, conn[, info])
//	                                  op 'J' (join, with info) or 'L' (leave)
//	'S' snapshot   seq, id, index,    one part of the sender's members as of
//	               total, count,      change seq; a snapshot is total parts
//	               count × (topic, conn, info)
//	'R' request    16-byte node id    "send your snapshot": that node, or
//	                                  every node for the zero id
//	'B' bye        -                  the sender is leaving: drop its members
const (
	presMagic   = 'P'
	presVersion = 1
	presHeader  = 3 + len(broker.NodeID{})

	presHeartbeat = 'H'
	presChanges   = 'D'
	presSnapshot  = 'S'
	presRequest   = 'R'
	presBye       = 'B'

	opJoin  = 'J'
	opLeave = 'L'
)

// presMaxMessage is the size past which a batch of changes or a snapshot
// is cut into several messages: well under the buses' limits (NATS's
// default max_payload is 1 MiB).
const presMaxMessage = 32 << 10

// presMaxParts bounds a snapshot's parts, so that a bad message cannot
// make a receiver allocate without bound.
const presMaxParts = 1 << 16

// presOp is one change of a node's members.
type presOp struct {
	join  bool
	topic string
	conn  uint64
	info  string
}

// presEntry is one member in a snapshot.
type presEntry struct {
	topic string
	conn  uint64
	info  string
}

// presMsg is a decoded presence message.
type presMsg struct {
	kind   byte
	node   broker.NodeID
	seq    uint64 // heartbeat, snapshot; changes: the first change's number
	ops    []presOp
	id     uint64 // snapshot
	index  int    // snapshot
	total  int    // snapshot
	ents   []presEntry
	target broker.NodeID // request
}

var errPresMalformed = errors.New("malformed presence message")

func appendPresHeader(b []byte, kind byte, node broker.NodeID) []byte {
	b = append(b, presMagic, presVersion, kind)
	return append(b, node[:]...)
}

func appendPresString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeHeartbeat returns a heartbeat with the sender's last change.
func encodeHeartbeat(node broker.NodeID, seq uint64) []byte {
	b := appendPresHeader(make([]byte, 0, presHeader+10), presHeartbeat, node)
	return binary.AppendUvarint(b, seq)
}

// encodeRequest asks target (zero: every node) for its snapshot.
func encodeRequest(node, target broker.NodeID) []byte {
	b := appendPresHeader(make([]byte, 0, presHeader+len(target)), presRequest, node)
	return append(b, target[:]...)
}

// encodeBye says the sender is leaving.
func encodeBye(node broker.NodeID) []byte {
	return appendPresHeader(make([]byte, 0, presHeader), presBye, node)
}

// encodeChanges encodes ops, numbered from first, as one or more
// messages of at most about presMaxMessage bytes.
func encodeChanges(node broker.NodeID, first uint64, ops []presOp) [][]byte {
	var out [][]byte
	for len(ops) > 0 {
		n, size := 0, 0
		for n < len(ops) && (n == 0 || size < presMaxMessage) {
			size += 24 + len(ops[n].topic) + len(ops[n].info)
			n++
		}
		b := appendPresHeader(make([]byte, 0, presHeader+20+size), presChanges, node)
		b = binary.AppendUvarint(b, first)
		b = binary.AppendUvarint(b, uint64(n))
		for _, op := range ops[:n] {
			if op.join {
				b = append(b, opJoin)
			} else {
				b = append(b, opLeave)
			}
			b = appendPresString(b, op.topic)
			b = binary.AppendUvarint(b, op.conn)
			if op.join {
				b = appendPresString(b, op.info)
			}
		}
		out = append(out, b)
		first += uint64(n)
		ops = ops[n:]
	}
	return out
}

// encodeSnapshot encodes the members ents as of change seq as the parts
// of snapshot id (at least one part, also for no members).
func encodeSnapshot(node broker.NodeID, seq, id uint64, ents []presEntry) [][]byte {
	var groups [][]presEntry
	for start := 0; start < len(ents) || len(groups) == 0; {
		n, size := 0, 0
		for start+n < len(ents) && (n == 0 || size < presMaxMessage) {
			e := &ents[start+n]
			size += 24 + len(e.topic) + len(e.info)
			n++
		}
		groups = append(groups, ents[start:start+n])
		start += n
		if n == 0 {
			break
		}
	}
	out := make([][]byte, 0, len(groups))
	for i, g := range groups {
		b := appendPresHeader(nil, presSnapshot, node)
		b = binary.AppendUvarint(b, seq)
		b = binary.AppendUvarint(b, id)
		b = binary.AppendUvarint(b, uint64(i))
		b = binary.AppendUvarint(b, uint64(len(groups)))
		b = binary.AppendUvarint(b, uint64(len(g)))
		for _, e := range g {
			b = appendPresString(b, e.topic)
			b = binary.AppendUvarint(b, e.conn)
			b = appendPresString(b, e.info)
		}
		out = append(out, b)
	}
	return out
}

// presReader reads the fields of a presence message; the first failure
// sticks.
type presReader struct {
	b   []byte
	err error
}

func (r *presReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errPresMalformed, what)
	}
}

func (r *presReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *presReader) str(what string) string {
	n := r.uvarint(what + " length")
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a number of items each at least min bytes long, checked
// against what is left, so that a bad count cannot make a big allocation.
func (r *presReader) count(what string, min int) int {
	n := r.uvarint(what)
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail(what)
		return 0
	}
	return int(n)
}

// decodePresence decodes a presence message; any input that is not a
// well-formed version 1 message yields an error, never a panic.
func decodePresence(b []byte) (presMsg, error) {
	var m presMsg
	if len(b) < presHeader || b[0] != presMagic {
		return m, fmt.Errorf("%w: bad header", errPresMalformed)
	}
	if b[1] != presVersion {
		return m, fmt.Errorf("%w: version %d", errPresMalformed, b[1])
	}
	m.kind = b[2]
	copy(m.node[:], b[3:presHeader])
	r := presReader{b: b[presHeader:]}
	switch m.kind {
	case presHeartbeat:
		m.seq = r.uvarint("sequence")
	case presBye:
	case presRequest:
		if len(r.b) != len(m.target) {
			r.fail("request")
			break
		}
		copy(m.target[:], r.b)
		r.b = nil
	case presChanges:
		m.seq = r.uvarint("first change")
		n := r.count("change count", 3)
		if r.err == nil {
			m.ops = make([]presOp, 0, n)
		}
		for range n {
			if r.err != nil || len(r.b) == 0 {
				r.fail("change")
				break
			}
			op := presOp{join: r.b[0] == opJoin}
			if r.b[0] != opJoin && r.b[0] != opLeave {
				r.fail("change kind")
				break
			}
			r.b = r.b[1:]
			op.topic = r.str("topic")
			op.conn = r.uvarint("connection id")
			if op.join {
				op.info = r.str("info")
			}
			m.ops = append(m.ops, op)
		}
	case presSnapshot:
		m.seq = r.uvarint("sequence")
		m.id = r.uvarint("snapshot id")
		index, total := r.uvarint("part index"), r.uvarint("part count")
		if r.err == nil && (total == 0 || total > presMaxParts || index >= total) {
			r.fail("snapshot part")
		}
		m.index, m.total = int(index), int(total)
		n := r.count("member count", 3)
		if r.err == nil {
			m.ents = make([]presEntry, 0, n)
		}
		for range n {
			e := presEntry{topic: r.str("topic"), conn: r.uvarint("connection id"), info: r.str("info")}
			if r.err != nil {
				break
			}
			m.ents = append(m.ents, e)
		}
	default:
		return m, fmt.Errorf("%w: kind %q", errPresMalformed, m.kind)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("length: trailing bytes")
	}
	return m, r.err
}
