package auth

import "testing"

// match looks at every entry even after a hit: how long it takes does not
// say which key matched or how many were tried.
func TestMatchScansEveryEntry(t *testing.T) {
	for hit := -1; hit < 5; hit++ {
		calls := 0
		got := match(5, func(i int) int {
			calls++
			if i == hit {
				return 1
			}
			return 0
		})
		if got != hit || calls != 5 {
			t.Errorf("hit %d: match = %d after %d calls, want %d after 5", hit, got, calls, hit)
		}
	}
}
