// Package graftest is what app and extension authors need to test with
// graft against the real thing: an app started on a loopback listener,
// requests that read the whole answer and decode problem+json, a real
// WebSocket client, and golden files (Caddy's habit) for answers, setup
// errors and documents.
//
//	func TestOrders(t *testing.T) {
//		app := graft.New(graft.Config{})
//		app.Register(myext.New())
//		graft.Post(app, "/orders", createOrder)
//		srv := graftest.Start(t, app) // started, listening; stopped at t.Cleanup
//
//		res := srv.Post("/orders", "application/json", `{"qty":0}`)
//		res.WantStatus(422)
//		p := res.Problem() // *graft.Problem, or the test fails
//		graftest.GoldenJSON(t, "orders-422.json", p)
//
//		c := srv.DialWS("/ws")
//		c.SendText("hi")
//		graftest.Equal(t, c.Recv(), "hi")
//	}
//
// Every helper takes the testing.TB it reports to and fails the test
// with a message saying what was expected; every wait has a deadline
// (Timeout) and says what it waited for.
//
// Golden files live in testdata/ of the test's package; `go test
// -update` rewrites them from what the test produced, to be reviewed in
// the diff. A test package that uses graftest uses its -update flag
// instead of defining its own (two would collide).
//
// Discard is an http.ResponseWriter for benchmarks and allocation tests
// that call app.ServeHTTP directly.
package graftest
