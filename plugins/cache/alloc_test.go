package cache_test

import (
	"testing"

	"github.com/graftgo/graft/graftest"
)

// Allocation counts, through app.ServeHTTP with a discarding writer whose
// header map is reused: a hit allocates nothing; a POST endpoint under the
// cache (returned unchanged by the plugin) allocates what the bare one
// does; a miss (the endpoint runs and its answer is stored) allocates a
// fixed number more than the bare endpoint.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops items at random")
	}
	bare, with := benchApp(t, false), benchApp(t, true)
	w := graftest.NewDiscard()
	count := func(f func()) float64 { f(); return testingAllocs(f) }
	getBare := count(served(t, bare, w, "GET", "/item", false))
	hit := count(served(t, with, w, "GET", "/item", false))
	freshBare := count(served(t, bare, w, "GET", "/fresh", true))
	miss := count(served(t, with, w, "GET", "/fresh", true))
	postBare := count(served(t, bare, w, "POST", "/item", false))
	postWith := count(served(t, with, w, "POST", "/item", false))
	t.Logf("allocs/op: GET bare %v, hit %v; fresh key bare %v, miss %v; POST bare %v, under the cache %v", getBare, hit, freshBare, miss, postBare, postWith)
	if hit != 0 {
		t.Errorf("a hit allocates %v times, want 0", hit)
	}
	if postWith != postBare {
		t.Errorf("POST under the cache allocates %v, bare %v: the plugin must leave the endpoint unchanged", postWith, postBare)
	}
	if extra := miss - freshBare; extra != missExtra {
		t.Errorf("a miss allocates %v more than the bare endpoint, want %d", extra, missExtra)
	}
}

// missExtra is what a miss allocates beyond the endpoint: the key (path
// and query), the flight and its channel, the stored header map (two) and
// its Content-Type value, the entry, its body and its Content-Length
// value, the store's node and its copy of the key, and the context the
// answer is stored with (the request's, without its cancellation). The
// Date value is made once a second.
const missExtra = 13

func testingAllocs(f func()) float64 { return testing.AllocsPerRun(200, f) }
