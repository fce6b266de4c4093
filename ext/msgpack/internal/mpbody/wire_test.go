package mpbody

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestValid(t *testing.T) {
	deep := append(bytes.Repeat([]byte{0x91}, MaxDepth+1), 0xc0)
	for _, tc := range []struct {
		name string
		b    []byte
		off  int // -1: valid
		msg  string
	}{
		{"nil", []byte{0xc0}, -1, ""},
		{"map", []byte{0x81, 0xa1, 'a', 0x01}, -1, ""},
		{"fixext4", []byte{0xd6, 0xff, 0, 0, 0, 0}, -1, ""},
		{"ext8", []byte{0xc7, 2, 5, 1, 2}, -1, ""},
		{"float64", []byte{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, -1, ""},
		{"empty", nil, 0, "unexpected end"},
		{"advisory GO-2026-4513", []byte{0xd6, 0xff, 0, 0}, 0, "unexpected end"},
		{"unused byte", []byte{0xc1}, 0, "never used"},
		{"trailing", []byte{0xc0, 0xc0}, 1, "1 bytes after the value"},
		{"truncated str", []byte{0xa5, 'a'}, 0, "unexpected end"},
		{"truncated uint64", []byte{0xcf, 0, 0}, 0, "unexpected end"},
		{"truncated float", []byte{0xca, 0}, 0, "unexpected end"},
		{"huge array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, 0, "array of 4294967295 items in 0 bytes"},
		{"huge map", []byte{0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0}, 0, "map of 2147483647 pairs"},
		{"huge bin", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}, 0, "unexpected end"},
		{"item missing", []byte{0x92, 0xc0}, 0, "array of 2 items in 1 bytes"},
		{"pair missing", []byte{0x82, 0xc0, 0xc0, 0xc0}, 0, "map of 2 pairs in 3 bytes"},
		{"value missing", []byte{0x92, 0x92, 0xc0, 0xc0}, 4, "unexpected end"},
		{"deep but allowed", deep[1:], -1, ""},
		{"too deep", deep, MaxDepth, "nested more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Valid(tc.b)
			var se *SyntaxError
			switch {
			case tc.off < 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.off < 0:
			case !errors.As(err, &se) || se.Offset != tc.off || !strings.Contains(se.Msg, tc.msg):
				t.Fatalf("got %v, want a syntax error at %d with %q", err, tc.off, tc.msg)
			}
		})
	}
}

// collect keeps every problem Check reports.
type collect []string

func (c *collect) Full() bool { return false }

func (c *collect) Report(loc, msg string, got any) {
	s := loc + " " + msg
	if got != nil {
		s += " (" + got.(string) + ")"
	}
	*c = append(*c, s)
}

type inner struct {
	Qty  uint8    `json:"qty"`
	Tags []string `json:"tags"`
}

type Embedded struct {
	Note string `json:"note"`
}

type outer struct {
	Embedded
	Name   string           `json:"name,omitempty"`
	Age    int8             `json:"age"`
	Ratio  float32          `json:"ratio"`
	Items  []inner          `json:"items"`
	ByID   map[int]inner    `json:"by_id"`
	Fixed  [2]int           `json:"fixed"`
	Key    [4]byte          `json:"key"`
	Raw    []byte           `json:"raw"`
	Any    any              `json:"any"`
	Ptr    *inner           `json:"ptr"`
	Skip   string           `json:"-"`
	Tagged string           `msgpack:"mp" json:"js"`
	Extra  map[string]int64 `json:"extra"`
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckReportsEveryProblem(t *testing.T) {
	typ := mustTypeOf(reflect.TypeFor[outer]())
	for _, tc := range []struct {
		name   string
		body   any
		forbid bool
		want   []string
	}{
		{"fits", map[string]any{
			"note": "n", "name": "pen", "age": -128, "ratio": 1, "items": []any{map[string]any{"qty": 255, "tags": []string{"a"}}},
			"by_id": map[int]any{7: map[string]any{}}, "fixed": []int{1}, "key": "abcd", "raw": []byte{1}, "any": []any{1, "x"},
			"ptr": nil, "mp": "x", "extra": map[string]any{"a": int64(-1 << 63)}, "Embedded": map[string]any{"note": "n"},
		}, true, nil},
		{"wrong types", map[string]any{
			"name": 3, "age": 128, "ratio": 1.5, "items": []any{map[string]any{"qty": -1, "tags": []any{"a", 2}}, "x"},
			"by_id": map[string]any{"a": map[string]any{}}, "fixed": []int{1, 2, 3}, "key": "abcde", "raw": 5, "extra": map[string]any{"a": "b"},
		}, false, []string{
			"body.age must be an integer (number 128)",
			"body.by_id.a must be an integer (string)",
			"body.extra.a must be an integer (string)",
			"body.fixed must have at most 2 items (array of 3)",
			"body.items[0].qty must be a non-negative integer (number -1)",
			"body.items[0].tags[1] must be a string (number 2)",
			"body.items[1] must be an object (string)",
			"body.key must be a string or binary (string)",
			"body.name must be a string (number 3)",
			"body.ratio must be a 32-bit float or an integer (number)",
			"body.raw must be a string or binary (number 5)",
		}},
		{"unknown forbidden", map[string]any{"js": "x", "Skip": "y", "items": []any{map[string]any{"colour": 1}}}, true, []string{
			"body.Skip is not a known field",
			"body.items[0].colour is not a known field",
			"body.js is not a known field",
		}},
		{"unknown allowed", map[string]any{"js": "x", "colour": map[string]any{"deep": []any{1}}}, false, nil},
		{"not an object", []int{1}, false, []string{"body must be an object (array)"}},
		{"non-string key", map[int]int{1: 2}, false, []string{"body must be an object with string keys (object with a number 1 key)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got collect
			if err := Check(mustMarshal(t, tc.body), typ, "body", tc.forbid, &got); err != nil {
				t.Fatal(err)
			}
			slicesSort(got)
			if !reflect.DeepEqual([]string(got), tc.want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(tc.want) == 0 {
				var v outer
				if err := Decode(mustMarshal(t, tc.body), &v, tc.forbid); err != nil {
					t.Fatalf("checked but does not decode: %v", err)
				}
			}
		})
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestDecodeCopies(t *testing.T) {
	type v struct {
		S string `json:"s"`
		B []byte `json:"b"`
	}
	b := mustMarshal(t, v{S: "hello", B: []byte("world")})
	var got v
	if err := Decode(b, &got, false); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if got.S != "hello" || string(got.B) != "world" {
		t.Fatalf("decoded values alias the input: %q %q", got.S, got.B)
	}
}

func TestEncodeJSONNames(t *testing.T) {
	type v struct {
		Name  string `json:"name"`
		Note  string `json:"note,omitempty"`
		Count int    `json:"count"`
		Skip  int    `json:"-"`
	}
	b, err := Marshal(v{Name: "a", Skip: 1})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, map[string]any{"name": "a", "count": int8(0)}) {
		t.Fatalf("encoded %v", m)
	}
}

func TestCheckLinear(t *testing.T) {
	// The walk visits each byte a bounded number of times: the work on a
	// body of 2n problems is twice that on n (counted as reports and as
	// the walk's own allocations, not time).
	typ := mustTypeOf(reflect.TypeFor[struct {
		Tags []int `json:"tags"`
	}]())
	count := func(n int) int {
		tags := make([]any, n)
		for i := range tags {
			tags[i] = "x"
		}
		var got collect
		if err := Check(mustMarshal(t, map[string]any{"tags": tags}), typ, "body", false, &got); err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if a, b := count(1000), count(2000); a != 1000 || b != 2000 {
		t.Fatalf("reports %d and %d, want 1000 and 2000", a, b)
	}
}

func TestCheckAllocs(t *testing.T) {
	typ := mustTypeOf(reflect.TypeFor[outer]())
	b := mustMarshal(t, map[string]any{"name": "pen", "age": 3, "items": []any{map[string]any{"qty": 1, "tags": []string{"a", "b"}}}, "by_id": map[int]any{1: nil}})
	var got collect
	if n := testing.AllocsPerRun(100, func() {
		if err := Check(b, typ, "body", true, &got); err != nil || len(got) != 0 {
			t.Fatal(err, got)
		}
	}); n != 0 {
		t.Fatalf("Check of a valid body allocates %v times", n)
	}
}

func TestCheckDuplicateKeys(t *testing.T) {
	type aliased struct {
		Name string `msgpack:"name,alias:title"`
	}
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	pairs := func(kv ...string) []byte {
		b := []byte{0x80 | byte(len(kv)/2)}
		for _, s := range kv {
			b = append(b, str(s)...)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		typ  reflect.Type
		body []byte
		want []string
	}{
		{"field twice", reflect.TypeFor[outer](), pairs("name", "a", "note", "n", "name", "b"), []string{"body.name is given more than once"}},
		{"inlined field twice", reflect.TypeFor[outer](), pairs("note", "a", "note", "b"), []string{"body.note is given more than once"}},
		{"through an alias", reflect.TypeFor[aliased](), pairs("name", "a", "title", "b"), []string{"body.title is given more than once"}},
		{"in each of two objects", reflect.TypeFor[[]aliased](), append([]byte{0x92}, append(pairs("name", "a"), pairs("name", "b")...)...), nil},
		{"a map's keys are its own", reflect.TypeFor[map[string]string](), pairs("a", "x", "a", "y"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got collect
			if err := Check(tc.body, mustTypeOf(tc.typ), "body", false, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual([]string(got), tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

type hidden struct{ A string }

type hiddenP struct{ C string }

type withHidden struct {
	hidden
	*hiddenP
	B string
}

// TestCheckUnexportedEmbedded refuses what would make the library panic
// (setting an unexported embedded field) and lets through what it decodes.
func TestCheckUnexportedEmbedded(t *testing.T) {
	typ := mustTypeOf(reflect.TypeFor[withHidden]())
	for _, tc := range []struct {
		body any
		want []string
	}{
		{map[string]any{"A": "x", "B": "y"}, nil},
		{map[string]any{"hidden": nil}, []string{"body.hidden is not a known field"}},
		{map[string]any{"hidden": map[string]any{"A": "x"}}, []string{"body.hidden is not a known field"}},
		{map[string]any{"C": "x"}, []string{"body.C is not a known field"}},
		{map[string]any{"hiddenP": map[string]any{}}, []string{"body.hiddenP is not a known field"}},
	} {
		b := mustMarshal(t, tc.body)
		var got collect
		if err := Check(b, typ, "body", false, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual([]string(got), tc.want) {
			t.Fatalf("%v: got %q, want %q", tc.body, got, tc.want)
		}
		if len(got) == 0 {
			var v withHidden
			if err := Decode(b, &v, false); err != nil || v.A != "x" || v.B != "y" {
				t.Fatalf("%v: decoded %+v, %v", tc.body, v, err)
			}
		}
	}
}

func TestCheckUndecodableField(t *testing.T) {
	// The library has no decoder for uintptr (it calls a nil func) and
	// sets anything it decodes into an interface with methods (a reflect
	// panic): both are refused before it sees them.
	typ := mustTypeOf(reflect.TypeFor[struct {
		F func()    `json:"f"`
		U uintptr   `json:"u"`
		R io.Reader `json:"r"`
	}]())
	for _, tc := range []struct {
		body any
		want []string
	}{
		{map[string]any{"f": nil, "u": 1, "r": 1}, []string{
			"body.f cannot be decoded from msgpack",
			"body.r must be nil (the field is an interface with methods) (number 1)",
			"body.u cannot be decoded from msgpack",
		}},
		{map[string]any{"r": nil}, nil},
	} {
		var got collect
		if err := Check(mustMarshal(t, tc.body), typ, "body", false, &got); err != nil {
			t.Fatal(err)
		}
		slicesSort(got)
		if !reflect.DeepEqual([]string(got), tc.want) {
			t.Fatalf("got %q, want %q", got, tc.want)
		}
	}
}

func TestCheckCompositeKeys(t *testing.T) {
	// An array or map key would reach an interface key as a slice or map,
	// which cannot be hashed: the library panics. Refused for every key type.
	typ := mustTypeOf(reflect.TypeFor[map[any]int]())
	var got collect
	if err := Check([]byte{0x82, 0x90, 0x01, 0x80, 0x02}, typ, "body", false, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"body.(array) must be a string, number or boolean key (array)", "body.(object) must be a string, number or boolean key (object)"}
	if !reflect.DeepEqual([]string(got), want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	var ok collect
	b := []byte{0x83, 0xa1, 'a', 0x01, 0x02, 0x02, 0xc3, 0x03}
	if err := Check(b, typ, "body", false, &ok); err != nil || len(ok) > 0 {
		t.Fatal(err, ok)
	}
	var m map[any]int
	if err := Decode(b, &m, false); err != nil || len(m) != 3 {
		t.Fatal(err, m)
	}
}

func mustTypeOf(t reflect.Type) *Type {
	typ, err := TypeOf(t)
	if err != nil {
		panic(err)
	}
	return typ
}

func TestTypeOfRefusesIntern(t *testing.T) {
	type bad struct {
		N int `msgpack:"n,intern"`
	}
	_, err := TypeOf(reflect.TypeFor[bad]())
	if err == nil || !strings.Contains(err.Error(), `field mpbody.bad.N: the msgpack option "intern" applies to strings and interfaces, not int`) {
		t.Fatalf("got %v", err)
	}
	type good struct {
		S string `msgpack:"s,intern"`
	}
	if _, err := TypeOf(reflect.TypeFor[good]()); err != nil {
		t.Fatal(err)
	}
}
