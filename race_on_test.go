//go:build race

package graft

// raceEnabled: under the race detector sync.Pool drops items at random, so
// allocation counts that rely on pooling are not pinned.
const raceEnabled = true
