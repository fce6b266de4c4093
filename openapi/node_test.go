package openapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWriteStringMatchesEncodingJSON: the document's string escaping is
// encoding/json's without HTML escaping, for every kind of character.
func TestWriteStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f\x7f", "<&>", "é ü 世界 😀", "\u2028\u2029", "bad \xff utf8 \xc3", "/users/{id}"} {
		var got bytes.Buffer
		writeString(&got, s)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got.Bytes(), w) {
			t.Errorf("%q: got %s, want %s", s, got.Bytes(), w)
		}
	}
}

// FuzzWriteString: whatever the string, the output reads back as it with
// encoding/json (invalid UTF-8 as U+FFFD, as encoding/json does).
func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"a", "\"", "\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeString(&b, s)
		var back string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("%q renders as %s, not JSON: %v", s, b.Bytes(), err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q reads back as %q, want %q", s, back, wantBack)
		}
	})
}

// TestDocsPageEscapes: the title and prefix are HTML-escaped into the page.
func TestDocsPageEscapes(t *testing.T) {
	p := string(docsPage(`<script>alert(1)</script>`, `/a"b`))
	if bytes.Contains([]byte(p), []byte("<script>alert")) || !bytes.Contains([]byte(p), []byte("&lt;script&gt;")) || !bytes.Contains([]byte(p), []byte(`/a&#34;b/openapi.json`)) {
		t.Errorf("page not escaped:\n%s", p)
	}
}
