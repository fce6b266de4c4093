// Package bench compares graft with http.ServeMux, gin, httprouter and echo
// (and, in later files, WebSocket and typed-endpoint peers) on the classic
// router benchmarks. It is a nested module so that the peers never become
// dependencies of graft.
//
// The package itself holds only the route sets (GitHubAPI); the routers,
// benchmarks and correctness tests are in its test files, and
// cmd/plaintext with wrk.sh measures a plaintext server end to end. See
// README.md for how to run them and RESULTS.md for the figures.
package bench
