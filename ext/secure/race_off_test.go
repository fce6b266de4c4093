//go:build !race

package secure_test

const raceEnabled = false
