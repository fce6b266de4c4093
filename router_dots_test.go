package graft

import (
	"strings"
	"testing"
)

func TestPatternWithDotSegmentPanics(t *testing.T) {
	for _, p := range []string{"/a/../b", "/./x", "/a/.."} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "'.' or '..' segment") {
					t.Errorf("pattern %s: panic %v", p, r)
				}
			}()
			New(Config{}).GET(p, func(*Ctx) error { return nil })
		}()
	}
	// Dots inside a segment are ordinary characters.
	New(Config{}).GET("/robots.txt", func(*Ctx) error { return nil })
}

func TestDotParams(t *testing.T) {
	cases := []struct {
		vals []string
		wild bool
		want bool
	}{
		{[]string{"a", ".."}, false, true},
		{[]string{"."}, false, true},
		{[]string{".hidden"}, false, false},
		{[]string{"a", "x/../y"}, true, true},
		{[]string{"a", "x/.y/z"}, true, false},
		{[]string{"..", "x"}, true, true},
	}
	for _, tc := range cases {
		var ps params
		for _, v := range tc.vals {
			ps.push(v)
		}
		if got := dotParams(&ps, tc.wild); got != tc.want {
			t.Errorf("dotParams(%q, %v) = %v", tc.vals, tc.wild, got)
		}
	}
}
