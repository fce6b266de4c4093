package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Position is a point in a topic's history stream: the offset of the last
// publication a client has seen (0: none yet) and the stream's epoch.
// Offsets of one stream are consecutive from 1; the epoch changes whenever
// the backend loses the stream (a restart without persistence, a deleted
// stream), so a position is only meaningful with the epoch it came with.
type Position struct {
	// Offset is the offset of the last publication seen; 0 before the
	// first one.
	Offset uint64
	// Epoch names the stream's current incarnation. It is never empty for
	// a position a History returned.
	Epoch string
}

// Publication is one message kept in a topic's history.
type Publication struct {
	// Offset is the publication's place in its stream, from 1.
	Offset uint64
	// Data is the published payload. It may be shared with other readers
	// and must be treated as read-only.
	Data []byte
	// Time is when the backend appended it (at millisecond precision for
	// the server backends).
	Time time.Time
}

// History keeps a bounded, ordered history of the publications on topics
// that a [HistoryPolicies] rule matches, so that a client that reconnects
// can get what it missed. Implementations: [MemoryHistory] (one node),
// graft/broker/redis (Redis Streams) and graft/broker/nats (JetStream).
// All methods are safe for concurrent use, also from several nodes
// sharing one server backend: offsets are assigned atomically with the
// append.
type History interface {
	// Append adds data to topic's history and returns its position: the
	// new offset and the stream's epoch. It fails with [ErrNoHistory] when
	// no policy covers topic. Append does not keep data after it returns.
	Append(ctx context.Context, topic string, data []byte) (Position, error)

	// Since returns the publications of topic after pos, oldest first, at
	// most limit of them (limit <= 0: all), and the stream's current top
	// position. When pos cannot be continued exactly — the epoch differs,
	// publications after pos.Offset were trimmed by size or TTL, or
	// pos.Offset is beyond the top — it returns an error matching
	// [ErrUnrecoverable] (an [*UnrecoverableError]) with the current top,
	// from which a client that reloaded its state can continue. Fewer than
	// all missed publications come back only when limit cuts them: the
	// last returned offset is then below the top's.
	Since(ctx context.Context, topic string, pos Position, limit int) ([]Publication, Position, error)

	// Position returns topic's current top: the offset of its newest
	// publication (0 if none) and its epoch. A client takes it when it
	// subscribes, before it receives live publications, to recover from
	// later. It fails with [ErrNoHistory] when no policy covers topic.
	Position(ctx context.Context, topic string) (Position, error)
}

var (
	// ErrUnrecoverable is matched (with errors.Is) by the error Since
	// returns when the missed publications cannot all be given: the
	// client must reload its state from the source of truth.
	ErrUnrecoverable = errors.New("broker: history cannot be recovered")
	// ErrNoHistory is returned for a topic no history policy covers.
	ErrNoHistory = errors.New("broker: no history policy for topic")
)

// Reasons an [UnrecoverableError] gives.
const (
	// ReasonEpoch: the stream was lost and started again since pos.
	ReasonEpoch = "epoch changed"
	// ReasonTrimmed: publications after pos were dropped by size or TTL.
	ReasonTrimmed = "history trimmed"
	// ReasonAhead: pos.Offset is beyond the stream's top.
	ReasonAhead = "offset beyond the stream's top"
)

// UnrecoverableError says why Since cannot continue from a position. It
// matches [ErrUnrecoverable].
type UnrecoverableError struct {
	// Topic is the topic asked for.
	Topic string
	// Reason is one of ReasonEpoch, ReasonTrimmed and ReasonAhead.
	Reason string
	// Current is the stream's top position at the time of the call.
	Current Position
}

func (e *UnrecoverableError) Error() string {
	return fmt.Sprintf("broker: history of topic %q cannot be recovered: %s (now at offset %d, epoch %s)",
		e.Topic, e.Reason, e.Current.Offset, e.Current.Epoch)
}

// Is reports whether target is ErrUnrecoverable.
func (e *UnrecoverableError) Is(target error) bool { return target == ErrUnrecoverable }

// CheckSince is the decision every backend makes in Since: given the
// client's pos, the stream's top and the oldest offset still kept (top+1
// when none is), it returns nil if the publications after pos are all
// there, or the *UnrecoverableError that explains why not.
func CheckSince(topic string, pos, top Position, oldest uint64) error {
	switch {
	case pos.Epoch != top.Epoch:
		return &UnrecoverableError{Topic: topic, Reason: ReasonEpoch, Current: top}
	case pos.Offset > top.Offset:
		return &UnrecoverableError{Topic: topic, Reason: ReasonAhead, Current: top}
	case pos.Offset+1 < oldest:
		return &UnrecoverableError{Topic: topic, Reason: ReasonTrimmed, Current: top}
	}
	return nil
}

// NewEpoch returns a random epoch: 16 hex digits.
func NewEpoch() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// HistoryPolicy bounds one topic's history.
type HistoryPolicy struct {
	// Size is the most publications kept per topic; it must be positive.
	Size int
	// TTL is how long a publication is kept; zero means no time limit.
	TTL time.Duration
}

// HistoryRule gives the topics matching Pattern a history policy. Pattern
// is a glob where '*' matches any run of bytes (dots included) and every
// other byte matches itself: "chat.*" matches "chat.room1" and
// "chat.a.b"; "news" matches only "news".
type HistoryRule struct {
	Pattern string
	HistoryPolicy
}

// HistoryPolicies lists the rules that decide which topics keep a history;
// the first rule whose pattern matches a topic applies. A topic no rule
// matches keeps none.
type HistoryPolicies []HistoryRule

// Validate reports the first rule that cannot work, naming it and saying
// how to fix it. Every History constructor calls it.
func (p HistoryPolicies) Validate() error {
	if len(p) == 0 {
		return errors.New("broker: no history rules: give at least one HistoryRule{Pattern, Size, TTL}")
	}
	for i, r := range p {
		switch {
		case r.Pattern == "":
			return fmt.Errorf("broker: history rule %d has an empty Pattern; use \"*\" for every topic", i)
		case r.Size <= 0:
			return fmt.Errorf("broker: history rule %d (%q) has Size %d; it must be at least 1", i, r.Pattern, r.Size)
		case r.TTL < 0:
			return fmt.Errorf("broker: history rule %d (%q) has a negative TTL %v; use 0 for no time limit", i, r.Pattern, r.TTL)
		}
	}
	return nil
}

// Lookup returns the policy of the first rule matching topic, its index,
// and whether one matched.
func (p HistoryPolicies) Lookup(topic string) (HistoryPolicy, int, bool) {
	for i, r := range p {
		if MatchPattern(r.Pattern, topic) {
			return r.HistoryPolicy, i, true
		}
	}
	return HistoryPolicy{}, -1, false
}

// MatchPattern reports whether topic matches the glob pattern of a
// [HistoryRule].
func MatchPattern(pattern, topic string) bool {
	// Iterative glob with one backtrack point: linear in practice, never
	// exponential.
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(topic) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case p < len(pattern) && pattern[p] == topic[t]:
			p++
			t++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// NoHistory returns the error a History gives for a topic no rule covers;
// it matches ErrNoHistory and names the topic.
func NoHistory(topic string) error {
	return fmt.Errorf("%w %q: add a HistoryRule whose Pattern matches it", ErrNoHistory, topic)
}

// HistoryProvider is implemented by brokers whose server can also keep the
// topic histories, shared by every node on it (graft/broker/redis: Redis
// Streams; graft/broker/nats: JetStream). The WebSocket hub uses it when
// it has a broker and history rules but no History of its own: several
// nodes need one shared history, or their offsets would disagree.
type HistoryProvider interface {
	// NewHistory returns a History for policies on the broker's server,
	// over the broker's own connection. It may be called once Start has
	// succeeded; the History stops working when the broker is closed.
	NewHistory(policies HistoryPolicies) (History, error)
}
