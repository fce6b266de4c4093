// Package ratelimit limits how often clients may call an app: fixed
// window, sliding window, token bucket and GCRA policies, counted by the
// client's address behind trusted proxies, by the identity an auth plugin
// bound, or by any key of the request; in memory or, for several nodes,
// in Redis (module github.com/graftgo/graft/plugins/ratelimit/redis).
// Built on graft's public plugin API only.
//
//	lim := ratelimit.New(ratelimit.Config{
//		Policy: ratelimit.Policy{Name: "api", Algorithm: ratelimit.GCRA, Limit: 100, Window: time.Minute, Burst: 20},
//		Key:    ratelimit.IP(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8"}}),
//	})
//	app.UsePlugins(lim) // every typed endpoint; Skip leaves some alone
//
// Every answer of a limited endpoint carries the fields of
// draft-ietf-httpapi-ratelimit-headers:
//
//	RateLimit-Policy: "api";q=100;w=60
//	RateLimit: "api";r=37;t=12
//
// and a request over the quota is answered 429 problem+json with
// Retry-After, before its body is read (IP and Func keys are checked in a
// pre-bind hook) or, for User keys, before the handler and its
// dependencies. A store that fails answers 503, or lets requests through
// with FailOpen.
//
// The same Limiter serves plain routes (Middleware), WebSocket messages
// (Messages wraps a route's Message handler, closing with 1008 over the
// limit) and any code that calls Take.
package ratelimit
