//go:build !race

package csrf_test

const raceEnabled = false
