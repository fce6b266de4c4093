//go:build !race

package etag_test

const raceEnabled = false
