package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// A short soak (8 s of mixed HTTP and WebSocket traffic): goroutines come
// back to the baseline within 5 and the heap in use within twice the
// baseline once every client has closed, and no request failed.
func TestSoak(t *testing.T) {
	res, err := runSoak(soakConfig{Duration: 8 * time.Second, Clients: 8, Rate: 24, Workers: 2, GoroutineSlack: 5, HeapFactor: 2}, io.Discard)
	t.Log(res)
	if err != nil {
		t.Fatal(err)
	}
	if res.HTTP == 0 || res.WSReceived == 0 || res.WSConnects < 8+5 || len(res.During) < 4 {
		t.Fatalf("%v: want HTTP and WebSocket traffic, clients replaced and samples taken", res)
	}
}

// Flags out of range fail with a message naming the flag.
func TestSoakBadFlags(t *testing.T) {
	for _, tc := range []struct {
		cfg  soakConfig
		want string
	}{
		{soakConfig{Duration: 3 * time.Minute, Clients: 1, Rate: 1, Workers: 1, HeapFactor: 2}, "-duration"},
		{soakConfig{Duration: time.Second, Clients: 1, Rate: 9, Workers: 1, HeapFactor: 2}, "-rate"},
		{soakConfig{Duration: time.Second, Clients: 1, Rate: 1, Workers: 0, HeapFactor: 2}, "-workers"},
		{soakConfig{Duration: time.Second, Clients: 1, Rate: 1, Workers: 1, HeapFactor: 0.5}, "-heap-factor"},
	} {
		if _, err := runSoak(tc.cfg, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}

func TestMetricValue(t *testing.T) {
	body := []byte("# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 42\ngo_goroutines_total{a=\"b\"} 7\ngo_memstats_heap_inuse_bytes 1.5e+06\n")
	if v, ok := metricValue(body, "go_goroutines"); !ok || v != 42 {
		t.Errorf("go_goroutines = %v %v", v, ok)
	}
	if v, ok := metricValue(body, "go_memstats_heap_inuse_bytes"); !ok || v != 1.5e6 {
		t.Errorf("heap = %v %v", v, ok)
	}
	if _, ok := metricValue(body, "missing"); ok {
		t.Error("a missing metric was found")
	}
}
