// Package redis is a ratelimit.Store in Redis, on the project's Redis
// client (github.com/redis/rueidis), for limits shared by several nodes:
//
//	store, err := redis.New(redis.Options{Addr: "redis:6379"})
//	…
//	lim := ratelimit.New(ratelimit.Config{Policy: policy, Store: store})
//
// Each key is a hash read and updated by one Lua script (EVALSHA, loaded
// on first use), the same steps as the memory store's, so the four
// algorithms decide alike in both stores (the tests run the same request
// sequences through both and compare every decision). It is a nested
// module so that the core module does not depend on rueidis.
package redis
