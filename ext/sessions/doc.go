// Package sessions is graft's session extension: a Session per request,
// reached through the Access mixin (c.Session()) or sessions.Get(c, ext),
// kept in a Store:
//
//	type Ctx struct {
//		graft.Ctx
//		sessions.Access
//	}
//
//	app.Register(sessions.Extension(sessions.Options{Store: store, Secure: true}))
//	app.POST("/login", func(c *Ctx) error {
//		…check the password…
//		s := c.Session()
//		s.Regenerate() // a new id on login: no session fixation
//		s.Set("user", user.ID)
//		return c.NoContent()
//	})
//
// Typed endpoints get the session in a `plugin:""` field of type
// *Session: the extension brings that plugin for its scope.
//
// Stores: NewMemoryStore (one process), NewCookieStore (the session signed
// or encrypted in its cookie, on ext/cookies' Codec), ext/sqlite's
// SessionStore and the Redis store of the nested module
// github.com/graftgo/graft/ext/sessions/redis.
//
// The session is loaded from the store on first use (a request that never
// touches it costs nothing) and saved, as the per-key changes the request
// made, right before the response headers are sent, so a new or
// regenerated session's cookie goes out with them; a change made after
// the headers is saved after the answer when the cookie needs no change,
// and logged as lost otherwise. Server stores apply the changes of each
// request atomically to what they hold: concurrent requests of one
// session that set different keys all keep their writes (the last write
// of one key wins). Sessions expire Options.MaxAge after their last save
// (or, with Rolling, their last request); an unknown, expired or tampered
// cookie gives a new, empty session with a new id, never the one the
// client sent.
//
// Package sessionstest checks a Store against these promises; every store
// here runs it.
package sessions
