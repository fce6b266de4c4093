//go:build race

package ws

// raceEnabled: under the race detector sync.Pool drops items at random, so
// allocation counts that rely on pooling are not pinned.
const raceEnabled = true
