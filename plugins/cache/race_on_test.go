//go:build race

package cache_test

// raceEnabled: under the race detector sync.Pool drops items at random,
// so allocation counts are not pinned.
const raceEnabled = true
