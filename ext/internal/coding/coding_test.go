package coding

import (
	"testing"

	"go.uber.org/goleak"
)

func TestChoose(t *testing.T) {
	cases := []struct {
		ae   []string
		want string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"gzip"}, "gzip"},
		{[]string{"x-gzip"}, "gzip"},
		{[]string{"gzip, zstd"}, "zstd"},
		{[]string{"gzip;q=1, zstd;q=0.5"}, "gzip"},
		{[]string{"zstd;q=0, *"}, "gzip"},
		{[]string{"*;q=0"}, ""},
		{[]string{"identity;q=0"}, ""},
		{[]string{"identity;q=0, *;q=0.1"}, "zstd"},
		{[]string{"br", "GZIP ; q=0.8"}, "gzip"},
		{[]string{"gzip;q=abc"}, ""},
		{[]string{"gzip;q=2"}, ""},
		{[]string{"deflate, , br"}, ""},
	}
	for _, tc := range cases {
		if got := Choose(tc.ae, "zstd", "gzip"); got != tc.want {
			t.Errorf("Accept-Encoding %q: chose %q, want %q", tc.ae, got, tc.want)
		}
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
