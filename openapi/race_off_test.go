//go:build !race

package openapi_test

const race = false
