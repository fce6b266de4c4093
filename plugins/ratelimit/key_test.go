package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/ratelimit"
)

func TestClientIP(t *testing.T) {
	r, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"untrusted peer: header ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed entries left of the client are ignored", "10.1.2.3:4000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped from the right", "10.1.2.3:4000", []string{"198.51.100.1, 192.0.2.7, 10.9.9.9"}, "198.51.100.1"},
		{"several header lines, in order", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.1", "10.0.0.1"}, "198.51.100.1"},
		{"every hop trusted: the leftmost", "10.1.2.3:4000", []string{"10.0.0.9, 10.0.0.1"}, "10.0.0.9"},
		{"no header behind a trusted peer", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"garbage stops at the trusted hop that forwarded it", "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip, 10.0.0.1"}, "10.0.0.1"},
		{"empty entries skipped", "10.1.2.3:4000", []string{"198.51.100.1,, ,"}, "198.51.100.1"},
		{"entries with ports", "10.1.2.3:4000", []string{"198.51.100.1:5555, [fd00::1]:80"}, "198.51.100.1"},
		{"IPv6 peer, trusted", "[fd00::2]:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4-mapped IPv6 peer is the IPv4 proxy", "[::ffff:10.0.0.1]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"peer without a port", "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		req := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		a, ok := r.ClientIP(req)
		if !ok || a.String() != tc.want {
			t.Errorf("%s: %v %v, want %s", tc.name, a, ok, tc.want)
		}
	}
	if _, ok := r.ClientIP(&http.Request{RemoteAddr: "@"}); ok {
		t.Error("RemoteAddr @ parsed")
	}
}

func TestClientIPOtherHeader(t *testing.T) {
	r, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.1"}, Header: "x-real-ip"})
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{RemoteAddr: "10.0.0.1:1", Header: http.Header{"X-Real-Ip": {"198.51.100.1"}, "X-Forwarded-For": {"6.6.6.6"}}}
	if a, _ := r.ClientIP(req); a.String() != "198.51.100.1" {
		t.Errorf("X-Real-Ip: %v", a)
	}
}

func TestIPKeyIPv6Prefix(t *testing.T) {
	for _, tc := range []struct {
		bits int
		addr string
		want string
	}{
		{0, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{48, "2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"},
		{128, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"},
		{0, "198.51.100.1", "198.51.100.1"},
	} {
		r, err := ratelimit.NewIPResolver(ratelimit.IPConfig{IPv6Prefix: tc.bits})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := r.ClientIP(&http.Request{RemoteAddr: "[" + tc.addr + "]:1"})
		if strings.Contains(tc.addr, ".") {
			a, _ = r.ClientIP(&http.Request{RemoteAddr: tc.addr + ":1"})
		}
		if got := r.Key(a); got != tc.want {
			t.Errorf("/%d %s: %s, want %s", tc.bits, tc.addr, got, tc.want)
		}
	}
}

func TestIPConfigMistakes(t *testing.T) {
	for _, tc := range []struct {
		cfg  ratelimit.IPConfig
		want string
	}{
		{ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.1", "proxy.local"}}, `TrustedProxies[1] is "proxy.local"`},
		{ratelimit.IPConfig{IPv6Prefix: 129}, "IPv6Prefix is 129"},
		{ratelimit.IPConfig{IPv6Prefix: -1}, "IPv6Prefix is -1"},
	} {
		if _, err := ratelimit.NewIPResolver(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// The memory store holds at most MaxKeys keys whatever arrives, and drops
// expired keys on its sweep.
func TestMemoryStoreBounded(t *testing.T) {
	clk := newClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 64})
	if err != nil {
		t.Fatal(err)
	}
	l := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Hour}, Store: store, Now: clk.now})
	for i := range 5000 {
		if d, _ := l.Take(context.Background(), fmt.Sprint("client-", i)); !d.Allowed {
			t.Fatalf("new key %d denied", i)
		}
		if n := store.Len(); n > 64 {
			t.Fatalf("after %d keys the store holds %d, over MaxKeys 64", i+1, n)
		}
	}
}

func TestMemoryStoreSweepsExpired(t *testing.T) {
	clk := newClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	l := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Second}, Store: store, Now: clk.now})
	for i := range 1000 {
		l.Take(context.Background(), fmt.Sprint("old-", i))
	}
	if store.Len() != 1000 {
		t.Fatalf("holds %d, want 1000", store.Len())
	}
	clk.advance(2 * time.Minute)
	for i := range 1000 {
		l.Take(context.Background(), fmt.Sprint("new-", i))
	}
	if n := store.Len(); n != 1000 {
		t.Errorf("after the sweep: %d keys, want the 1000 live ones", n)
	}
	// A live key keeps its count through sweeps.
	clk.advance(2 * time.Minute)
	l.Take(context.Background(), "live")
	clk.advance(500 * ms)
	if d, _ := l.Take(context.Background(), "live"); d.Allowed {
		t.Error("a live key lost its count")
	}
}

func TestMemoryConfigMistakes(t *testing.T) {
	if _, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: -1}); err == nil || !strings.Contains(err.Error(), "MaxKeys is -1") {
		t.Errorf("MaxKeys -1: %v", err)
	}
	if _, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -time.Second}); err == nil {
		t.Error("negative SweepInterval accepted")
	}
}
