// Package healthcheck serves liveness and readiness endpoints:
// GET /healthz answers 200 {"status":"ok"} while the process serves, and
// GET /readyz runs the readiness checks that extensions contributed and
// answers 200 when all pass, 503 with the failed ones named otherwise.
//
//	hc := healthcheck.Extension(healthcheck.Options{Timeout: time.Second})
//	app.Register(hc, db) // db's Extend: graft.Require[*healthcheck.Health](b), then AddCheck
//
// An extension contributes a check through the typed handle: it names ID
// in Requires, gets the *Health with graft.Require in Extend and calls
// AddCheck (its name, a func(ctx) error). Forgetting to register the
// health-check extension then fails at start-up naming both. Checks run
// concurrently under one deadline (Options.Timeout, default 2 s); a check
// still running then fails as "timeout after 2s", a panicking one with its
// value. Once the app begins to stop (Builder.OnShutdown), readiness fails
// with "shutdown", so load balancers drain it. Answers carry
// Cache-Control: no-store.
//
//	{"status":"unavailable","checks":{"db":"ok","queue":"not connected"},"failed":["queue"]}
package healthcheck
