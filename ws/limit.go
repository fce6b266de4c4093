package ws

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/graftgo/graft/broker"
)

// ErrTooManyTopics is returned by Socket.TrySubscribe when the connection is
// already subscribed to Behavior.MaxTopics topics.
var ErrTooManyTopics = errors.New("graft: too many topics for this WebSocket connection (Behavior.MaxTopics)")

// ErrMessageTooLarge is matched by the error of Socket.Publish for a
// message longer than Behavior.MaxPublishLength or than the topic's
// Behavior.PublishLimits rule; nothing is published.
var ErrMessageTooLarge = errors.New("graft: published message is over the connection's publish limit (Behavior.MaxPublishLength, PublishLimits)")

// PublishLimit bounds the payload of the messages a connection publishes
// on the topics Pattern matches (Behavior.PublishLimits).
type PublishLimit struct {
	// Pattern is a glob where '*' matches any run of bytes (dots
	// included) and every other byte itself, as in broker.HistoryRule:
	// "chat.*" matches "chat.room1" and "chat.a.b".
	Pattern string
	// MaxLength is the largest payload, in bytes, that may be published
	// on the matching topics; it must be positive.
	MaxLength int
}

// checkPublishLimits rejects PublishLimits rules that cannot work, at
// registration.
func checkPublishLimits(pattern string, rules []PublishLimit) {
	for i, r := range rules {
		switch {
		case r.Pattern == "":
			setupPanic("WebSocket route %s: Behavior.PublishLimits[%d] has an empty Pattern; use \"*\" for every topic", pattern, i)
		case r.MaxLength <= 0:
			setupPanic("WebSocket route %s: Behavior.PublishLimits[%d] (%q) has MaxLength %d; it must be a positive byte count", pattern, i, r.Pattern, r.MaxLength)
		}
	}
}

// checkPublish applies the publish size limits to a payload of n bytes on
// topic: nil, or an error matching ErrMessageTooLarge after closing the
// connection when the route says so.
func (s *Socket) checkPublish(topic string, n int) error {
	set := s.set
	if set.maxPublish <= 0 && len(set.publishLimits) == 0 {
		return nil
	}
	limit, rule := set.maxPublish, -1
	for i, r := range set.publishLimits {
		if broker.MatchPattern(r.Pattern, topic) {
			limit, rule = r.MaxLength, i
			break
		}
	}
	if limit <= 0 || n <= limit {
		return nil
	}
	if set.closeOnPublish {
		s.closeWith(StatusMessageTooBig, "publish too large")
	}
	if rule >= 0 {
		return fmt.Errorf("publish on %q: %d bytes, limit %d (PublishLimits %q): %w", topic, n, limit, set.publishLimits[rule].Pattern, ErrMessageTooLarge)
	}
	return fmt.Errorf("publish on %q: %d bytes, limit %d: %w", topic, n, limit, ErrMessageTooLarge)
}

// monoBase anchors the limiter's monotonic clock.
var monoBase = time.Now()

// monoNow returns monotonic nanoseconds since the process started.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// rateLimit is a route's inbound message limit as a generic cell rate
// algorithm, the exact, integer form of a token bucket: a connection may
// send burst messages at once, then one every interval.
type rateLimit struct {
	interval  int64 // nanoseconds per message; 0: no limit
	tolerance int64 // (burst-1) * interval
}

// newRateLimit resolves MessageRate and MessageBurst; rate <= 0 is no limit.
func newRateLimit(rate float64, burst int) rateLimit {
	if rate <= 0 {
		return rateLimit{}
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rate)))
	}
	iv := max(int64(1), int64(float64(time.Second)/rate))
	return rateLimit{interval: iv, tolerance: int64(burst-1) * iv}
}

// allowMessage reports whether the connection may have one more message now, and
// takes it. It runs in the connection's read goroutine only, so the state
// (x.tat, the theoretical arrival time) needs no lock; it allocates only
// the connection's sockExtra, on its first message.
func (s *Socket) allowMessage() bool {
	rl := &s.set.rate
	if rl.interval == 0 {
		return true
	}
	now := s.hub().clockNow()
	x := s.extra()
	tat := max(x.tat, now)
	if tat-now > rl.tolerance {
		return false
	}
	x.tat = tat + rl.interval
	return true
}

// clockNow is the limiter's clock: monotonic, or the test's.
func (h *Hub) clockNow() int64 {
	if h.clock != nil {
		return h.clock()
	}
	return monoNow()
}
