package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
)

// redisHistory runs the history cases against a real redis-server without
// persistence: a restart (kill, start on the same port) loses every
// stream, so epochs must change.
func redisHistory(t testing.TB, p broker.HistoryPolicies) brokertest.HistoryHarness {
	s := startRedis(t, 0)
	return brokertest.HistoryHarness{
		New: func(t testing.TB) broker.History {
			h, err := NewHistory(admin(t, s), HistoryOptions{Policies: p})
			if err != nil {
				t.Fatal(err)
			}
			return h
		},
		Restart: func(t testing.TB) {
			s.Kill()
			s = startRedis(t, s.Port)
		},
	}
}

func TestHistoryConformance(t *testing.T) { brokertest.RunHistory(t, redisHistory) }

func BenchmarkHistoryAppend(b *testing.B) { brokertest.BenchHistoryAppend(b, redisHistory) }

func BenchmarkHistorySince1000(b *testing.B) { brokertest.BenchHistorySince(b, redisHistory) }

// Losing a topic's meta hash (an eviction, a FLUSHDB) renews the epoch and
// drops the orphaned stream, so offsets start again at 1 and old
// positions are refused; the two keys share a hash tag.
func TestHistoryMetaLost(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	h, err := NewHistory(c, HistoryOptions{Policies: brokertest.HistoryPolicies, Prefix: "app:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p1, err := h.Append(ctx, "h.x", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.Do(ctx, c.B().Keys().Pattern("app:*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "app:{h.x}:") || !strings.HasPrefix(keys[1], "app:{h.x}:") {
		t.Fatalf("keys = %q, want app:{h.x}:m and app:{h.x}:s", keys)
	}
	if err := c.Do(ctx, c.B().Del().Key("app:{h.x}:m").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	p2, err := h.Append(ctx, "h.x", []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if p2.Offset != 1 || p2.Epoch == p1.Epoch {
		t.Fatalf("append after the meta was lost = %+v, want offset 1 and an epoch other than %s", p2, p1.Epoch)
	}
	if _, _, err := h.Since(ctx, "h.x", p1, 0); !errors.Is(err, broker.ErrUnrecoverable) {
		t.Fatalf("Since(old position) = %v, want ErrUnrecoverable", err)
	}
	pubs, _, err := h.Since(ctx, "h.x", broker.Position{Epoch: p2.Epoch}, 0)
	if err != nil || len(pubs) != 1 || string(pubs[0].Data) != "b" {
		t.Fatalf("Since(new epoch) = %+v, %v; want only the new publication", pubs, err)
	}
}

// With a TTL the stream key expires after its newest entry; the meta hash
// stays.
func TestHistoryStreamExpires(t *testing.T) {
	s := startRedis(t, 0)
	c := admin(t, s)
	h, _ := NewHistory(c, HistoryOptions{Policies: brokertest.HistoryPolicies})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Append(ctx, "ttl.x", []byte("a")); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.Do(ctx, c.B().Pttl().Key("graft:ws:h:{ttl.x}:s").Build()).AsInt64()
	if err != nil || ttl <= 0 || ttl > 300 {
		t.Fatalf("stream PTTL = %d ms, %v; want (0, 300]", ttl, err)
	}
	ttl, err = c.Do(ctx, c.B().Pttl().Key("graft:ws:h:{ttl.x}:m").Build()).AsInt64()
	if err != nil || ttl != -1 {
		t.Fatalf("meta PTTL = %d, %v; want -1 (no expiry)", ttl, err)
	}
}

func TestNewHistoryRejects(t *testing.T) {
	if _, err := NewHistory(nil, HistoryOptions{Policies: brokertest.HistoryPolicies}); err == nil {
		t.Error("NewHistory(nil client) succeeded")
	}
	s := startRedis(t, 0)
	if _, err := NewHistory(admin(t, s), HistoryOptions{}); err == nil || !strings.Contains(err.Error(), "no history rules") {
		t.Errorf("NewHistory without policies: %v", err)
	}
}
