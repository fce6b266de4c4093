//go:build unix

package fdlimit_test

import (
	"fmt"

	"github.com/graftgo/graft/internal/fdlimit"
)

// A benchmark that holds 1,000 loopback connections in one process asks
// for the files they need, and skips when it cannot have them.
func ExampleRaise() {
	need := fdlimit.ForConns(1000)
	if got := fdlimit.Raise(need); got < need {
		fmt.Printf("skip: %d files needed, the limit is %d\n", need, got)
		return
	}
	fmt.Println("enough files for 1,000 connections")
}
