// Package redis is an idempotency.Store in Redis, on the project's Redis
// client (github.com/redis/rueidis), for keys shared by several nodes:
//
//	store, err := redis.New(redis.Options{Addr: "redis:6379"})
//	…
//	app.UsePlugins(idempotency.New(idempotency.Config{Store: store}))
//
// Each key is one Redis string, PREFIX + the plugin's key. A first
// request claims it with SET NX PX … GET, atomically: the value set is
// its lock ("L", the fingerprint, a random token) with the lock's TTL, and
// a key that exists is left alone and read in the same command, so two
// nodes never both claim one key. Complete and Release are Lua scripts
// that act only while the caller's token still holds the lock: Complete
// replaces it with the stored answer ("D", the fingerprint, the answer's
// binary encoding) and the answer's TTL, Release deletes it. A node that
// dies holding a lock leaves a key that Redis expires after LockTTL. It
// is a nested module so that the core module does not depend on rueidis.
package redis
