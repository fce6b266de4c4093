package broker

import (
	"context"
	"sync"
	"time"
)

// MemoryHistory is a [History] in the process's memory, for one node: a
// ring of at most Size publications per topic, expired after TTL. Each
// topic's stream gets a random epoch when it is first used, so a restarted
// process (whose histories are gone) never continues an old position.
// Offsets and epochs of a stream are kept for the life of the
// MemoryHistory even when all its publications expired, so a quiet topic
// stays recoverable for a client that missed nothing. Make one with
// [NewMemoryHistory].
type MemoryHistory struct {
	policies HistoryPolicies
	mu       sync.RWMutex
	streams  map[string]*memStream
}

var _ History = (*MemoryHistory)(nil)

type memStream struct {
	mu     sync.Mutex
	policy HistoryPolicy
	epoch  string
	top    uint64
	ring   []Publication // grows up to policy.Size; oldest at head
	head   int
	n      int
}

// NewMemoryHistory returns an empty MemoryHistory for the topics policies
// cover. It fails if a rule is invalid (see [HistoryPolicies.Validate]).
func NewMemoryHistory(policies HistoryPolicies) (*MemoryHistory, error) {
	if err := policies.Validate(); err != nil {
		return nil, err
	}
	return &MemoryHistory{policies: policies, streams: make(map[string]*memStream)}, nil
}

func (h *MemoryHistory) stream(topic string) (*memStream, error) {
	h.mu.RLock()
	s := h.streams[topic]
	h.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	p, _, ok := h.policies.Lookup(topic)
	if !ok {
		return nil, NoHistory(topic)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s = h.streams[topic]; s == nil {
		s = &memStream{policy: p, epoch: NewEpoch()}
		h.streams[topic] = s
	}
	return s, nil
}

// expire drops the publications older than the TTL; s.mu is held.
func (s *memStream) expire(now time.Time) {
	if s.policy.TTL <= 0 {
		return
	}
	cutoff := now.Add(-s.policy.TTL)
	for s.n > 0 && s.ring[s.head].Time.Before(cutoff) {
		s.ring[s.head] = Publication{}
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
}

// Append implements [History].
func (h *MemoryHistory) Append(_ context.Context, topic string, data []byte) (Position, error) {
	s, err := h.stream(topic)
	if err != nil {
		return Position{}, err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	s.top++
	p := Publication{Offset: s.top, Data: append([]byte(nil), data...), Time: now}
	if s.n == len(s.ring) && len(s.ring) < s.policy.Size {
		// Full but below Size: grow, oldest first, so memory follows use.
		grown := make([]Publication, 0, min(max(2*len(s.ring), 8), s.policy.Size))
		grown = append(append(grown, s.ring[s.head:]...), s.ring[:s.head]...)
		s.ring, s.head = grown[:cap(grown)], 0
	}
	if s.n < len(s.ring) {
		s.ring[(s.head+s.n)%len(s.ring)] = p
		s.n++
	} else { // full at Size: overwrite the oldest
		s.ring[s.head] = p
		s.head = (s.head + 1) % len(s.ring)
	}
	return Position{Offset: s.top, Epoch: s.epoch}, nil
}

// Since implements [History].
func (h *MemoryHistory) Since(_ context.Context, topic string, pos Position, limit int) ([]Publication, Position, error) {
	s, err := h.stream(topic)
	if err != nil {
		return nil, Position{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	top := Position{Offset: s.top, Epoch: s.epoch}
	if err := CheckSince(topic, pos, top, s.top-uint64(s.n)+1); err != nil {
		return nil, top, err
	}
	missed := int(s.top - pos.Offset)
	if limit > 0 && missed > limit {
		missed = limit
	}
	if missed == 0 {
		return nil, top, nil
	}
	out := make([]Publication, missed)
	first := s.head + s.n - int(s.top-pos.Offset) // ring index of pos.Offset+1
	for i := range out {
		out[i] = s.ring[(first+i)%len(s.ring)]
	}
	return out, top, nil
}

// Position implements [History].
func (h *MemoryHistory) Position(_ context.Context, topic string) (Position, error) {
	s, err := h.stream(topic)
	if err != nil {
		return Position{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Position{Offset: s.top, Epoch: s.epoch}, nil
}
