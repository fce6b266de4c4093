//go:build race

package openapi_test

// race is true under the race detector, whose instrumentation allocates.
const race = true
