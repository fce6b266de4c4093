package httpmethod

import (
	"fmt"
	"testing"
)

func TestIndex(t *testing.T) {
	for i, m := range Known {
		if got := Index(m); got != i {
			t.Errorf("Index(%q) = %d, want %d", m, got, i)
		}
	}
	for _, m := range []string{"", "get", "PURGE", "GETX"} {
		if got := Index(m); got != Other {
			t.Errorf("Index(%q) = %d, want Other", m, got)
		}
	}
}

func ExampleIndex() {
	fmt.Println(Index("PATCH"), Index("PURGE") == Other)
	// Output: 8 true
}
