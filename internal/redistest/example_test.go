package redistest_test

import (
	"fmt"

	"github.com/graftgo/graft/internal/redistest"
)

// Ping tells whether a Redis server answers at an address; a test uses
// Start (or StartOn a known port, after Kill, to play an outage) and gives
// its client Addr or URL.
func ExamplePing() {
	fmt.Println(redistest.Ping("127.0.0.1:1"))
	// Output: false
}
