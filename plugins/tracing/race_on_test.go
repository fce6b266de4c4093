//go:build race

package tracing_test

// raceEnabled: under the race detector sync.Pool drops items at random.
const raceEnabled = true
