package bench_test

import (
	"fmt"

	"github.com/graftgo/graft/bench"
)

// A route of the set is written once in the ":param" form and converted for
// the router under test.
func ExampleRoute() {
	r := bench.GitHubParam3
	fmt.Println(r.Path)
	fmt.Println(r.GraftPath())
	fmt.Println(r.ServeMuxPattern())
	fmt.Println(r.RequestPath())
	fmt.Println(r.ParamNames())
	// Output:
	// /repos/:owner/:repo/issues/:number
	// /repos/{owner}/{repo}/issues/{number}
	// GET /repos/{owner}/{repo}/issues/{number}
	// /repos/v-owner/v-repo/issues/1347
	// [owner repo number]
}
