package jsonstr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// encodingJSON is what encoding/json writes for s.
func encodingJSON(t testing.TB, s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

var cases = []string{
	"", "plain", `q"b\s`, "\b\f\n\r\t", "\x00\x01\x1f\x7f", "<&>", "a<b>&c",
	"é ü 世界 😀", "\u2028\u2029", "x\u2028y", "bad \xff utf8 \xc3", "\xed\xa0\x80",
	"/users/{id}", strings.Repeat("é", 70),
}

// TestAppendIsEncodingJSON: for every kind of character, with and without
// HTML escaping, the bytes are encoding/json's.
func TestAppendIsEncodingJSON(t *testing.T) {
	for _, s := range cases {
		for _, html := range []bool{false, true} {
			if got, want := string(Append(nil, s, html)), encodingJSON(t, s, html); got != want {
				t.Errorf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

// Append appends: what dst held stays in front.
func TestAppendKeepsDst(t *testing.T) {
	if got := string(Append([]byte("x:"), "a\"b", false)); got != `x:"a\"b"` {
		t.Errorf("got %s", got)
	}
}

// Appending to a buffer with room allocates nothing.
func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "héllo \"world\" <tag> \x01"
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], s, true) }); n != 0 {
		t.Errorf("Append allocates %v times per call, want 0", n)
	}
}

// FuzzAppend: whatever the string, the bytes are encoding/json's.
func FuzzAppend(f *testing.F) {
	for _, s := range cases {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := string(Append(nil, s, html)), encodingJSON(t, s, html); got != want {
			t.Fatalf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 256)
	for _, c := range []struct{ name, s string }{
		{"ascii", "The quick brown fox jumps over the lazy dog, 42 times."},
		{"accents", "Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter."},
		{"escapes", "line one\nline \"two\"\t<b>&</b>"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			for b.Loop() {
				buf = Append(buf[:0], c.s, true)
			}
		})
	}
}
