// Package redis is the Redis store of ext/sessions, on rueidis (the
// project's one Redis client, the one broker/redis uses): a hash per
// session whose key carries the session's TTL, saved by a Lua script that
// applies one request's per-key changes atomically.
//
//	client, _ := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
//	store, _ := redis.New(client, redis.Options{})
//	app.Register(sessions.Extension(sessions.Options{Store: store}))
//
// It is a nested module, github.com/graftgo/graft/ext/sessions/redis, so
// that the core module does not depend on rueidis.
package redis
