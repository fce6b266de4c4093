package topic

import (
	"strconv"
	"testing"
)

func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	var r Registry[int]
	for i := range 1000 { // a populated topic, so this is not the empty case
		r.Subscribe(i, "t")
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Subscribe(-1, "t")
		r.Unsubscribe(-1, "t")
	}
}

func BenchmarkSubscribeManyTopics(b *testing.B) {
	topics := make([]string, 1024)
	for i := range topics {
		topics[i] = "room-" + strconv.Itoa(i)
	}
	var r Registry[int]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Subscribe(i%4096, topics[i%len(topics)])
		r.Unsubscribe((i+2048)%4096, topics[(i+512)%len(topics)])
	}
}

// BenchmarkPublish1000 iterates the 1,000 subscribers of a topic, as a
// publish does, with the snapshot already built.
func BenchmarkPublish1000(b *testing.B) {
	var r Registry[int]
	for i := range 1000 {
		r.Subscribe(i, "t")
	}
	sum := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range r.Subscribers("t") {
			sum += s
		}
	}
	_ = sum
}

// BenchmarkPublish1000AfterChange is the worst case: every publish follows
// a change, so every publish rebuilds the snapshot.
func BenchmarkPublish1000AfterChange(b *testing.B) {
	var r Registry[int]
	for i := range 1000 {
		r.Subscribe(i, "t")
	}
	sum := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Unsubscribe(i%1000, "t")
		r.Subscribe(i%1000, "t")
		for _, s := range r.Subscribers("t") {
			sum += s
		}
	}
	_ = sum
}

func BenchmarkPublish1000Parallel(b *testing.B) {
	var r Registry[int]
	for i := range 1000 {
		r.Subscribe(i, "t")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sum := 0
		for pb.Next() {
			for _, s := range r.Subscribers("t") {
				sum += s
			}
		}
		_ = sum
	})
}
