package idempotency_test

import (
	"strings"
	"testing"

	"github.com/graftgo/graft/plugins/idempotency"
)

func TestParseKey(t *testing.T) {
	for _, tc := range []struct{ in, key string }{
		{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{`8e03978e-40d5-43e8-bc93-6894a57f9324`, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{` "padded"	`, "padded"},
		{`"with space"`, "with space"},
		{`"a\"b\\c"`, `a"b\c`},
		{`"semi;colon,comma"`, "semi;colon,comma"},
		{`base64+/=`, "base64+/="},
		{`"` + strings.Repeat("k", 255) + `"`, strings.Repeat("k", 255)},
		{strings.Repeat("k", 255), strings.Repeat("k", 255)}, // a bare token exactly at the cap; 256 is refused below
	} {
		key, why := idempotency.ParseKey(tc.in, 255)
		if why != "" || key != tc.key {
			t.Errorf("ParseKey(%q) = %q, %q; want %q", tc.in, key, why, tc.key)
		}
	}
	for _, tc := range []struct{ in, why string }{
		{``, "empty"},
		{`  `, "empty"},
		{`""`, "empty"},
		{`"abc`, "no closing quote"},
		{`"abc\`, "inside an escape"},
		{`"a\nb"`, "escape other than"},
		{`"a";p=1`, "after its closing quote"},
		{`"a", "b"`, "after its closing quote"},
		{"\"a\x01\"", "outside printable ASCII"},
		{"\"a\x80\"", "outside printable ASCII"},
		{`a b`, "outside printable ASCII or a space"},
		{`a,b`, `','`},
		{`a;b`, `';'`},
		{`a"b`, `'"'`},
		{`"` + strings.Repeat("k", 256) + `"`, "longer than 255"},
		{strings.Repeat("k", 256), "longer than 255"},
		{`"` + strings.Repeat(`\\`, 200) + `"`, "longer than 255"}, // 400 bytes escaped, 200 unescaped: fine
	} {
		key, why := idempotency.ParseKey(tc.in, 255)
		if tc.in == `"`+strings.Repeat(`\\`, 200)+`"` {
			if why != "" || key != strings.Repeat(`\`, 200) {
				t.Errorf("ParseKey(200 escaped backslashes) = %d bytes, %q", len(key), why)
			}
			continue
		}
		if key != "" || !strings.Contains(why, tc.why) {
			t.Errorf("ParseKey(%q) = %q, %q; want a reason with %q", tc.in, key, why, tc.why)
		}
	}
}

// A well-formed key parses without allocating.
func TestParseKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	n := testing.AllocsPerRun(100, func() { idempotency.ParseKey(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, 255) })
	if n != 0 {
		t.Fatalf("ParseKey: %v allocs, want 0", n)
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{`"abc"`, `abc`, `"a\"b"`, `"`, `\`, `"a";x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, why := idempotency.ParseKey(s, 64)
		if (key == "") == (why == "") {
			t.Fatalf("ParseKey(%q) = %q, %q: want exactly one of key and reason", s, key, why)
		}
		if len(key) > 64 {
			t.Fatalf("ParseKey(%q) = %d bytes over the cap", s, len(key))
		}
		for i := range len(key) {
			if key[i] < 0x20 || key[i] > 0x7e {
				t.Fatalf("ParseKey(%q) = %q: a byte outside printable ASCII", s, key)
			}
		}
	})
}
