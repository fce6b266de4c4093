// Package redistest runs real redis-server processes for the tests of the
// workspace's Redis modules (broker/redis, ext/sessions/redis,
// plugins/ratelimit/redis, plugins/idempotency/redis and the examples): one
// helper instead of a copy in each. It needs redis-server on PATH
// (apt-get install -y redis-server; .ci/run installs it) and fails the test,
// saying so, without it.
package redistest
