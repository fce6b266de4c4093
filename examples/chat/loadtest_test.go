package main

import (
	"io"
	"testing"
	"time"
)

// The load test runs briefly on one node and on two over NATS: every
// member of a room gets every accepted message of it exactly once, and
// something is delivered.
func TestLoad(t *testing.T) {
	for _, nodes := range []int{1, 2} {
		t.Run(map[int]string{1: "OneNode", 2: "TwoNodes"}[nodes], func(t *testing.T) {
			res, err := runLoad(loadConfig{Clients: 6, Rooms: 2, Duration: 2 * time.Second, Rate: 30, Nodes: nodes}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
			if res.Lost != 0 || res.Duplicated != 0 {
				t.Fatalf("%v: want nothing lost or duplicated", res)
			}
			if res.Sent == 0 || res.Delivered == 0 || res.PerSecond <= 0 || res.Delivered != res.Expected {
				t.Fatalf("%v: want every sent message delivered at a positive rate", res)
			}
		})
	}
}

// Flags out of range fail with a message naming the flag.
func TestLoadBadFlags(t *testing.T) {
	for _, cfg := range []loadConfig{
		{Clients: 2, Rooms: 3, Duration: time.Second, Rate: 1, Nodes: 1},
		{Clients: 2, Rooms: 1, Duration: time.Second, Rate: 100, Nodes: 1},
		{Clients: 2, Rooms: 1, Duration: time.Second, Rate: 1, Nodes: 3},
	} {
		if _, err := runLoad(cfg, io.Discard); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
