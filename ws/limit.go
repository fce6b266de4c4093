package ws

import (
	"errors"
	"math"
	"time"
)

// ErrTooManyTopics is returned by Socket.TrySubscribe when the connection is
// already subscribed to Behavior.MaxTopics topics.
var ErrTooManyTopics = errors.New("graft: too many topics for this WebSocket connection (Behavior.MaxTopics)")

// ErrMessageTooLarge is returned by Socket.Publish for a message longer
// than Behavior.MaxPublishLength; nothing is published.
var ErrMessageTooLarge = errors.New("graft: published message is over Behavior.MaxPublishLength")

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
// (s.tat, the theoretical arrival time) needs no lock; it does not allocate.
func (s *Socket) allowMessage() bool {
	rl := &s.set.rate
	if rl.interval == 0 {
		return true
	}
	now := s.hub.clockNow()
	tat := max(s.tat, now)
	if tat-now > rl.tolerance {
		return false
	}
	s.tat = tat + rl.interval
	return true
}

// clockNow is the limiter's clock: monotonic, or the test's.
func (h *Hub) clockNow() int64 {
	if h.clock != nil {
		return h.clock()
	}
	return monoNow()
}
