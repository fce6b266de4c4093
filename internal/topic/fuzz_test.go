package topic

import (
	"maps"
	"slices"
	"testing"
)

// fuzzTopics are the topics a fuzz op can name: few, so ops collide often,
// and awkward, since topics are arbitrary bytes.
var fuzzTopics = []string{"", "a", "b", "a.b", "*", ">", "with space", "\x00\xff"}

// model is the obviously correct registry the fuzz target checks against.
type model map[string]map[int]bool // topic -> set of subscribers

func (m model) topicsOf(s int) []string {
	var out []string
	for t, set := range m {
		if set[s] {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// FuzzRegistry decodes a sequence of operations from the input (two bytes
// each: opcode and subscriber, then a topic byte), applies them to a
// Registry and to a map-of-sets model, and checks after every op that the
// results and the whole observable state agree.
func FuzzRegistry(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0})
	f.Add([]byte{0, 1, 2, 0, 2, 2, 0, 1, 3, 2, 1, 0, 1, 2, 2})
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 2, 0, 0, 0, 1, 3, 1, 1, 3})
	f.Add([]byte("subscribe unsubscribe all the things, many times over"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var r Registry[int]
		m := model{}
		const nsubs = 6
		for i := 0; i+2 < len(ops); i += 3 {
			op, s, tp := ops[i]%3, int(ops[i+1]%nsubs), fuzzTopics[int(ops[i+2])%len(fuzzTopics)]
			switch op {
			case 0:
				wantFirst := len(m[tp]) == 0
				if m[tp] == nil {
					m[tp] = map[int]bool{}
				}
				if m[tp][s] {
					wantFirst = false
				}
				m[tp][s] = true
				if got := r.Subscribe(s, tp); got != wantFirst {
					t.Fatalf("op %d: Subscribe(%d, %q) first = %v, want %v", i/3, s, tp, got, wantFirst)
				}
			case 1:
				wantLast := m[tp][s] && len(m[tp]) == 1
				delete(m[tp], s)
				if len(m[tp]) == 0 {
					delete(m, tp)
				}
				if got := r.Unsubscribe(s, tp); got != wantLast {
					t.Fatalf("op %d: Unsubscribe(%d, %q) last = %v, want %v", i/3, s, tp, got, wantLast)
				}
			case 2:
				var want []string
				for t, set := range m {
					if set[s] {
						delete(set, s)
						if len(set) == 0 {
							delete(m, t)
							want = append(want, t)
						}
					}
				}
				got := r.UnsubscribeAll(s)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: UnsubscribeAll(%d) = %q, want %q", i/3, s, got, want)
				}
			}
			check(t, i/3, &r, m, nsubs)
		}
	})
}

// check compares every observable of r with m.
func check(t *testing.T, op int, r *Registry[int], m model, nsubs int) {
	t.Helper()
	if r.NumTopics() != len(m) {
		t.Fatalf("op %d: NumTopics = %d, want %d", op, r.NumTopics(), len(m))
	}
	for _, tp := range fuzzTopics {
		if got, want := r.NumSubscribers(tp), len(m[tp]); got != want {
			t.Fatalf("op %d: NumSubscribers(%q) = %d, want %d", op, tp, got, want)
		}
		got := slices.Clone(r.Subscribers(tp))
		slices.Sort(got)
		want := slices.Sorted(maps.Keys(m[tp]))
		if !slices.Equal(got, want) {
			t.Fatalf("op %d: Subscribers(%q) = %v, want %v", op, tp, got, want)
		}
		for s := range nsubs {
			if got, want := r.IsSubscribed(s, tp), m[tp][s]; got != want {
				t.Fatalf("op %d: IsSubscribed(%d, %q) = %v, want %v", op, s, tp, got, want)
			}
		}
	}
	for s := range nsubs {
		if got, want := r.Topics(s), m.topicsOf(s); !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("op %d: Topics(%d) = %q, want %q", op, s, got, want)
		}
	}
}
