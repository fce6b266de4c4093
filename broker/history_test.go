package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, topic string
		want           bool
	}{
		{"*", "", true},
		{"*", "anything.at.all", true},
		{"chat.*", "chat.room1", true},
		{"chat.*", "chat.a.b", true},
		{"chat.*", "chat.", true},
		{"chat.*", "chat", false},
		{"chat.*", "xchat.a", false},
		{"news", "news", true},
		{"news", "news2", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*.log", "x.y.log", true},
		{"*.log", "x.logs", false},
		{"a**", "a", true},
	} {
		if got := MatchPattern(c.pattern, c.topic); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", c.pattern, c.topic, got, c.want)
		}
	}
}

func TestHistoryPoliciesValidate(t *testing.T) {
	for _, c := range []struct {
		p    HistoryPolicies
		want string
	}{
		{nil, "no history rules"},
		{HistoryPolicies{{Pattern: "", HistoryPolicy: HistoryPolicy{Size: 1}}}, `rule 0 has an empty Pattern; use "*"`},
		{HistoryPolicies{{Pattern: "a", HistoryPolicy: HistoryPolicy{Size: 1}}, {Pattern: "b.*"}}, `rule 1 ("b.*") has Size 0; it must be at least 1`},
		{HistoryPolicies{{Pattern: "a", HistoryPolicy: HistoryPolicy{Size: 1, TTL: -time.Second}}}, "negative TTL"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", c.p, err, c.want)
		}
		if _, err := NewMemoryHistory(c.p); err == nil {
			t.Errorf("NewMemoryHistory(%+v) accepted invalid rules", c.p)
		}
	}
	p := HistoryPolicies{{Pattern: "a.*", HistoryPolicy: HistoryPolicy{Size: 1}}, {Pattern: "*", HistoryPolicy: HistoryPolicy{Size: 2}}}
	if pol, i, ok := p.Lookup("a.x"); !ok || i != 0 || pol.Size != 1 {
		t.Errorf("Lookup(a.x) = %+v, %d, %v; want the first rule", pol, i, ok)
	}
	if pol, i, ok := p.Lookup("b"); !ok || i != 1 || pol.Size != 2 {
		t.Errorf("Lookup(b) = %+v, %d, %v; want the second rule", pol, i, ok)
	}
}

// The ring grows, wraps and keeps exactly the newest Size publications
// through every combination of growth and overwrite.
func TestMemoryHistoryRing(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{1, 2, 7, 8, 9, 20} {
		h, err := NewMemoryHistory(HistoryPolicies{{Pattern: "*", HistoryPolicy: HistoryPolicy{Size: size}}})
		if err != nil {
			t.Fatal(err)
		}
		e, _ := h.Position(ctx, "t")
		for n := 1; n <= 3*size+5; n++ {
			if _, err := h.Append(ctx, "t", []byte(fmt.Sprint(n))); err != nil {
				t.Fatal(err)
			}
			oldest := max(1, n-size+1)
			pubs, top, err := h.Since(ctx, "t", Position{Offset: uint64(oldest - 1), Epoch: e.Epoch}, 0)
			if err != nil || top.Offset != uint64(n) || len(pubs) != n-oldest+1 {
				t.Fatalf("size %d after %d appends: %d publications, top %+v, %v", size, n, len(pubs), top, err)
			}
			for i, p := range pubs {
				if want := oldest + i; p.Offset != uint64(want) || string(p.Data) != fmt.Sprint(want) {
					t.Fatalf("size %d after %d appends: publication %d is %d %q", size, n, i, p.Offset, p.Data)
				}
			}
			if oldest > 1 {
				_, _, err := h.Since(ctx, "t", Position{Offset: uint64(oldest - 2), Epoch: e.Epoch}, 0)
				if !errors.Is(err, ErrUnrecoverable) {
					t.Fatalf("size %d after %d appends: offset %d should be trimmed, got %v", size, n, oldest-2, err)
				}
			}
		}
	}
}

// Append copies its data: the caller may reuse its buffer at once.
func TestMemoryHistoryCopiesData(t *testing.T) {
	ctx := context.Background()
	h, _ := NewMemoryHistory(HistoryPolicies{{Pattern: "*", HistoryPolicy: HistoryPolicy{Size: 4}}})
	buf := []byte("first")
	p, _ := h.Append(ctx, "t", buf)
	copy(buf, "XXXXX")
	pubs, _, err := h.Since(ctx, "t", Position{Epoch: p.Epoch}, 0)
	if err != nil || len(pubs) != 1 || string(pubs[0].Data) != "first" {
		t.Fatalf("Since = %+v, %v; want the data as appended", pubs, err)
	}
}
