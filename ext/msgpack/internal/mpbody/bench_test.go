package mpbody

import (
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

type benchBody struct {
	Name  string   `json:"name"`
	Age   int      `json:"age"`
	Email string   `json:"email"`
	Tags  []string `json:"tags"`
}

// BenchmarkBody: what the check costs next to the decode it guards, and
// the pooled, configured decode next to the library's Unmarshal.
func BenchmarkBody(b *testing.B) {
	body, err := Marshal(benchBody{Name: "Ada Lovelace", Age: 36, Email: "ada@example.com", Tags: []string{"math", "engines"}})
	if err != nil {
		b.Fatal(err)
	}
	typ := mustTypeOf(reflect.TypeFor[benchBody]())
	var none collect
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Check(body, typ, "body", true, &none); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v benchBody
			if err := Decode(body, &v, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check+decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v benchBody
			if err := Check(body, typ, "body", true, &none); err != nil {
				b.Fatal(err)
			}
			if err := Decode(body, &v, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v struct {
				Name  string   `msgpack:"name"`
				Age   int      `msgpack:"age"`
				Email string   `msgpack:"email"`
				Tags  []string `msgpack:"tags"`
			}
			if err := msgpack.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
