package brokertest

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
)

// BenchThroughput publishes b.N messages of 128 bytes on node A, from
// publishers goroutines at once, as fast as it can and waits until node B
// has delivered them all, or until deliveries stop for 500 ms. msgs/s
// counts messages delivered on B; lost% is what B dropped as a slow
// consumer (at-most-once: the publisher is not slowed down). setup is as
// for [Run].
func BenchThroughput(b *testing.B, setup func(t testing.TB) Harness, publishers int) {
	h := setup(b)
	a, _ := StartNode(b, h)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want int64
	recv := newNode(b, h)
	if err := recv.Start(b.Context(), func(broker.Message) {
		if got.Add(1) == atomic.LoadInt64(&want) {
			done <- struct{}{}
		}
	}); err != nil {
		b.Fatal(err)
	}
	recv.Subscribe("bench")
	h.checkSubs(b, recv, "bench")
	payload := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	atomic.StoreInt64(&want, int64(b.N))
	start := time.Now()
	if publishers <= 1 {
		for range b.N {
			if err := a.Publish(b.Context(), broker.Message{Topic: "bench", Payload: payload}); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range publishers {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					if err := a.Publish(b.Context(), broker.Message{Topic: "bench", Payload: payload}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	last, end := int64(-1), time.Now()
	for wait := true; wait; {
		select {
		case <-done:
			wait = false
			end = time.Now()
		case <-time.After(500 * time.Millisecond):
			if n := got.Load(); n == last {
				wait = false
			} else {
				last, end = n, time.Now()
			}
		}
	}
	n := got.Load()
	b.ReportMetric(float64(n)/end.Sub(start).Seconds(), "msgs/s")
	b.ReportMetric(100*float64(int64(b.N)-n)/float64(b.N), "lost%")
}

// BenchLatency publishes one message at a time on node A and waits for
// node B to deliver it; it reports the one-way publish-to-deliver latency
// percentiles (same process, same clock). setup is as for [Run].
func BenchLatency(b *testing.B, setup func(t testing.TB) Harness) {
	h := setup(b)
	a, _ := StartNode(b, h)
	lat := make(chan time.Duration, 1)
	recv := newNode(b, h)
	if err := recv.Start(b.Context(), func(m broker.Message) {
		lat <- time.Duration(time.Now().UnixNano() - int64(binary.LittleEndian.Uint64(m.Payload)))
	}); err != nil {
		b.Fatal(err)
	}
	recv.Subscribe("bench")
	h.checkSubs(b, recv, "bench")
	payload := make([]byte, 128)
	lats := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		binary.LittleEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
		a.Publish(b.Context(), broker.Message{Topic: "bench", Payload: payload})
		select {
		case d := <-lat:
			lats = append(lats, d)
		case <-time.After(5 * time.Second):
			b.Fatal("message lost")
		}
	}
	slices.Sort(lats)
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
}
