package nats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/graftgo/graft/broker"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HistoryOptions configures a History.
type HistoryOptions struct {
	// Policies decide which topics keep a history and how much; required
	// (see broker.HistoryPolicies.Validate).
	Policies broker.HistoryPolicies
	// Prefix is the first tokens of the history subjects ("<Prefix>.<topic
	// token>") and names the streams; empty means "graft.wsh". Give each
	// app sharing a NATS account its own.
	Prefix string
	// Storage is where the server keeps the streams: jetstream.FileStorage
	// (the zero value: history survives a server restart) or
	// jetstream.MemoryStorage.
	Storage jetstream.StorageType
	// Replicas is the streams' replication factor in a JetStream
	// cluster; zero means 1.
	Replicas int
}

// History is a broker.History in NATS JetStream, shared by every node on
// the same NATS account and Prefix. Make one with NewHistory.
//
// Each topic with a policy gets its own stream (created on first use,
// named from a hash of the prefix and topic, MaxMsgs Size, MaxAge TTL,
// discard old), so the stream sequence is the topic's offset: assigned
// by the server at the append, consecutive, with FirstSeq telling what
// was trimmed. The epoch is the stream's creation time, which a stream
// keeps across server restarts with file storage and which changes when
// the stream is deleted and created again (memory storage after a
// restart, a purge by an operator). One stream per topic costs the
// server a little memory per topic; it is meant for the topics that need
// recovery (chat rooms, feeds), not for one-off per-user topics by the
// million.
type History struct {
	js       jetstream.JetStream
	prefix   string
	policies broker.HistoryPolicies
	storage  jetstream.StorageType
	replicas int

	mu     sync.Mutex
	epochs map[string]string // stream name -> epoch, for streams known to exist
}

var _ broker.History = (*History)(nil)

// NewHistory returns a History over the connection nc, which stays the
// caller's to close. It fails if a policy or the prefix is invalid.
func NewHistory(nc *natsgo.Conn, opts HistoryOptions) (*History, error) {
	if nc == nil {
		return nil, errors.New("graft/broker/nats: NewHistory needs a *nats.Conn")
	}
	if err := opts.Policies.Validate(); err != nil {
		return nil, fmt.Errorf("graft/broker/nats: %w", err)
	}
	if opts.Prefix == "" {
		opts.Prefix = "graft.wsh"
	}
	if err := validPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("graft/broker/nats: %w", err)
	}
	return &History{js: js, prefix: opts.Prefix, policies: opts.Policies, storage: opts.Storage,
		replicas: opts.Replicas, epochs: make(map[string]string)}, nil
}

// StreamName returns the name of topic's history stream.
func (h *History) StreamName(topic string) string {
	sum := sha256.Sum256([]byte(h.prefix + "\x00" + topic))
	return "GRAFT_H_" + hex.EncodeToString(sum[:16])
}

func epochOf(info *jetstream.StreamInfo) string {
	return strconv.FormatInt(info.Created.UnixNano(), 36)
}

// stream returns topic's stream and its current info, creating it if it
// does not exist.
func (h *History) stream(ctx context.Context, topic string) (jetstream.Stream, *jetstream.StreamInfo, error) {
	p, _, ok := h.policies.Lookup(topic)
	if !ok {
		return nil, nil, broker.NoHistory(topic)
	}
	name := h.StreamName(topic)
	s, err := h.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		var subj string
		if subj, err = Subject(h.prefix, topic); err != nil {
			return nil, nil, err
		}
		s, err = h.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        name,
			Description: "graft topic history",
			Subjects:    []string{subj},
			MaxMsgs:     int64(p.Size),
			MaxAge:      p.TTL,
			Discard:     jetstream.DiscardOld,
			Storage:     h.storage,
			Replicas:    h.replicas,
		})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("graft/broker/nats: history stream of %q: %w", topic, err)
	}
	info := s.CachedInfo()
	h.mu.Lock()
	h.epochs[name] = epochOf(info)
	h.mu.Unlock()
	return s, info, nil
}

// Append implements broker.History. It publishes to the topic's stream
// and returns the server's sequence as the offset. The epoch comes from
// this History's last look at the stream; should another node have
// recreated the stream since, the stale epoch makes a later Since refuse
// the position (a needless reload, never a wrong recovery).
func (h *History) Append(ctx context.Context, topic string, data []byte) (broker.Position, error) {
	if _, _, ok := h.policies.Lookup(topic); !ok {
		return broker.Position{}, broker.NoHistory(topic)
	}
	subj, err := Subject(h.prefix, topic)
	if err != nil {
		return broker.Position{}, err
	}
	name := h.StreamName(topic)
	for attempt := 0; ; attempt++ {
		h.mu.Lock()
		epoch, known := h.epochs[name]
		h.mu.Unlock()
		if !known {
			if _, info, err := h.stream(ctx, topic); err != nil {
				return broker.Position{}, err
			} else {
				epoch = epochOf(info)
			}
		}
		ack, err := h.js.Publish(ctx, subj, data, jetstream.WithExpectStream(name))
		if err == nil {
			return broker.Position{Offset: ack.Sequence, Epoch: epoch}, nil
		}
		if attempt == 0 && errors.Is(err, jetstream.ErrNoStreamResponse) {
			// The stream is gone (a restart with memory storage, a
			// deletion): create it again, with a new epoch.
			h.mu.Lock()
			delete(h.epochs, name)
			h.mu.Unlock()
			continue
		}
		return broker.Position{}, fmt.Errorf("graft/broker/nats: history append on %q: %w", topic, err)
	}
}

// Position implements broker.History.
func (h *History) Position(ctx context.Context, topic string) (broker.Position, error) {
	_, info, err := h.stream(ctx, topic)
	if err != nil {
		return broker.Position{}, err
	}
	return broker.Position{Offset: info.State.LastSeq, Epoch: epochOf(info)}, nil
}

// Since implements broker.History. It reads the missed publications
// through a short-lived pull consumer starting at pos.Offset+1.
func (h *History) Since(ctx context.Context, topic string, pos broker.Position, limit int) ([]broker.Publication, broker.Position, error) {
	s, info, err := h.stream(ctx, topic)
	if err != nil {
		return nil, broker.Position{}, err
	}
	top := broker.Position{Offset: info.State.LastSeq, Epoch: epochOf(info)}
	if err := broker.CheckSince(topic, pos, top, info.State.FirstSeq); err != nil {
		return nil, top, err
	}
	want := int(top.Offset - pos.Offset)
	if limit > 0 && want > limit {
		want = limit
	}
	if want == 0 {
		return nil, top, nil
	}
	c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       pos.Offset + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second, // in case the delete below is lost
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		return nil, top, fmt.Errorf("graft/broker/nats: history of %q: %w", topic, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		s.DeleteConsumer(dctx, c.CachedInfo().Name)
	}()
	out := make([]broker.Publication, 0, want)
	for len(out) < want {
		wait := 5 * time.Second
		if d, ok := ctx.Deadline(); ok {
			wait = max(time.Until(d), 100*time.Millisecond)
		}
		batch, err := c.Fetch(want-len(out), jetstream.FetchMaxWait(wait))
		if err != nil {
			return nil, top, fmt.Errorf("graft/broker/nats: history of %q: %w", topic, err)
		}
		n := len(out)
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, top, fmt.Errorf("graft/broker/nats: history of %q: %w", topic, err)
			}
			if md.Sequence.Stream != pos.Offset+uint64(len(out))+1 {
				// Trimmed between the stream info and the read.
				return nil, top, &broker.UnrecoverableError{Topic: topic, Reason: broker.ReasonTrimmed, Current: top}
			}
			out = append(out, broker.Publication{Offset: md.Sequence.Stream, Data: m.Data(), Time: md.Timestamp})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, natsgo.ErrTimeout) {
			return nil, top, fmt.Errorf("graft/broker/nats: history of %q: %w", topic, err)
		}
		if len(out) == n {
			// Nothing came within the wait: the missed messages expired
			// after the stream info was taken.
			return nil, top, &broker.UnrecoverableError{Topic: topic, Reason: broker.ReasonTrimmed, Current: top}
		}
	}
	return out, top, nil
}
