package graft

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type fastInner struct {
	On    bool    `json:"on"`
	Ratio float32 `json:"ratio"`
}

// fastAll has a field of every kind the plan decodes.
type fastAll struct {
	Name    string  `json:"name"`
	Note    string  // no tag: the field name
	Flag    bool    `json:"flag,omitempty"`
	Small   int8    `json:"small"`
	Mid     int32   `json:"mid"`
	N       int     `json:"n"`
	Byte    uint8   `json:"byte"`
	Big     uint64  `json:"big"`
	F       float64 `json:"f"`
	Inner   fastInner
	Skipped string `json:"-"`
	Dash    string `json:"-,"`
	hidden  int
}

var fastAllPlan = compileFastDec(reflect.TypeFor[fastAll]())

// fastAgrees decodes b with the plan and, when the plan takes it,
// with encoding/json, and fails when the two differ.
func fastAgrees(t *testing.T, b []byte) bool {
	t.Helper()
	var got fastAll
	ok := fastAllPlan.decode(b, unsafe.Pointer(&got))
	if valid := fastAllPlan.valid(b); valid != ok {
		t.Fatalf("%q: decode says %v, the dry run %v", b, ok, valid)
	}
	if !ok {
		return false
	}
	var want fastAll
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%q: the plan accepted what encoding/json refuses: %v", b, err)
	}
	if got != want {
		t.Fatalf("%q: the plan decoded %+v, encoding/json %+v", b, got, want)
	}
	return true
}

func TestFastJSONPlain(t *testing.T) {
	if fastAllPlan == nil {
		t.Fatal("no plan for a struct of plain fields")
	}
	taken := []string{
		`{}`,
		` {"name":"alice","n":30} `,
		"{\n\t\"name\" : \"héllo ☃\" ,\r\n \"Note\":\"x\"}",
		`{"flag":true,"small":-128,"mid":2147483647,"n":-9223372036854775808}`,
		`{"byte":255,"big":18446744073709551615,"f":-1.5e-300}`,
		`{"f":0,"Inner":{"on":false,"ratio":3.4e38}}`,
		`{"Inner":{}}`,
		`{"-":"dash","n":-0}`,
		`{"f":1E+2,"name":""}`,
	}
	for _, s := range taken {
		if !fastAgrees(t, []byte(s)) {
			t.Errorf("%s: the plan gave up on a plain body", s)
		}
	}
	// Each of these leaves the plain road: encoding/json decides.
	refused := []string{
		``, `null`, `[]`, `"x"`, `{`, `{"name":"a"`, `{"name":"a",}`, `{,}`,
		`{"name":"a"} x`, `{"name":"a"}]`, `{"name":"a"}{}`,
		`{"NAME":"a"}`, `{"Name":"a"}`, `{"note":"x"}`, // folded keys
		`{"na\u006de":"a"}`, `{"name":"a\nb"}`, `{"name":"a\"b"}`, // escapes
		`{"name":"a` + "\xff" + `"}`, `{"name":"a` + "\x01" + `"}`, // bad UTF-8, control byte
		`{"name":"a","name":"b"}`, `{"Inner":{"on":true,"on":false}}`, // a key twice
		`{"unknown":1}`, `{"Skipped":"x"}`, `{"hidden":1}`,
		`{"name":null}`, `{"n":null}`, `{"Inner":null}`,
		`{"name":1}`, `{"n":"1"}`, `{"flag":"true"}`, `{"flag":1}`, `{"Inner":[]}`,
		`{"n":1.0}`, `{"n":1e2}`, `{"n":01}`, `{"n":-}`, `{"n":+1}`, `{"n":.5}`, `{"f":1.}`, `{"f":1e}`,
		`{"small":128}`, `{"small":-129}`, `{"byte":256}`, `{"byte":-1}`, `{"big":-0}`,
		`{"big":18446744073709551616}`, `{"n":9223372036854775808}`, `{"Inner":{"ratio":1e39}}`,
		`{"flag":tru}`, `{"flag":truex}`, `{"n":1x}`,
	}
	for _, s := range refused {
		if fastAgrees(t, []byte(s)) {
			t.Errorf("%s: the plan took it; it must leave it to encoding/json", s)
		}
	}
}

func TestFastJSONEligibility(t *testing.T) {
	type embedded struct{ fastInner }
	type withPtr struct{ P *int }
	type withSlice struct{ S []string }
	type withMap struct{ M map[string]int }
	type withAny struct{ A any }
	type withString struct {
		N int `json:"n,string"`
	}
	type folded struct {
		A string `json:"key"`
		B string `json:"KEY"`
	}
	type withTime struct{ T time.Time }
	type withRaw struct{ R json.RawMessage }
	type nested struct{ In withPtr }
	type unicodeName struct {
		N string `json:"námé"`
	}
	for _, tc := range []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[fastAll](), true},
		{reflect.TypeFor[struct{}](), true},
		{reflect.TypeFor[embedded](), false},
		{reflect.TypeFor[withPtr](), false},
		{reflect.TypeFor[withSlice](), false},
		{reflect.TypeFor[withMap](), false},
		{reflect.TypeFor[withAny](), false},
		{reflect.TypeFor[withString](), false},
		{reflect.TypeFor[folded](), false},
		{reflect.TypeFor[withTime](), false},
		{reflect.TypeFor[time.Time](), false},
		{reflect.TypeFor[withRaw](), false},
		{reflect.TypeFor[nested](), false},
		{reflect.TypeFor[unicodeName](), false},
		{reflect.TypeFor[[]int](), false},
	} {
		if got := compileFastDec(tc.t) != nil; got != tc.want {
			t.Errorf("%s: plan %v, want %v", tc.t, got, tc.want)
		}
	}
}

// FuzzFastJSON holds the plan to encoding/json: whatever it takes, encoding/json
// takes with the same result.
func FuzzFastJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"alice","n":30}`, `{"Inner":{"on":true,"ratio":1.5}}`, `{"big":1,"byte":2,"small":-3}`,
		`{"f":-0.0e-0,"mid":7}`, `{"name":"a","name":"b"}`, `{"NAME":"x"}`, `{"n":1e2}`, `{}`, ` {} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fastAgrees(t, b) })
}

// TestFastJSONFallback serves bodies the plan gives up on midway through a
// typed endpoint: the answer is encoding/json's, with nothing the plan
// wrote before it gave up.
func TestFastJSONFallback(t *testing.T) {
	type body struct {
		Name string `json:"name" minLength:"1"`
		Age  int    `json:"age" min:"0"`
	}
	app := New(Config{})
	Post(app, "/p", func(_ context.Context, in *struct{ Body body }) (*struct{ Body body }, error) {
		return &struct{ Body body }{in.Body}, nil
	})
	srv := epServer(t, app)
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"name":"alice","age":30}`, 200, `{"name":"alice","age":30}`},
		{`{"age":30,"NAME":"bob"}`, 200, `{"name":"bob","age":30}`},          // folded key
		{`{"name":"al\u0069ce","age":30}`, 200, `{"name":"alice","age":30}`}, // escape
		{`{"name":"alice","age":"x"}`, 422, `"body.age"`},
		{`{"name":"alice","age":30,"age":31}`, 422, `body.age`},
		{`{"name":"alice","age":30} {}`, 400, "data after the JSON value"},
		{`{"age":30,"extra":{"deep":[1,2]},"name":"z"}`, 200, `{"name":"z","age":30}`},
	} {
		r := epDo(t, srv, "POST", "/p", "application/json", tc.body)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.body, r.status, r.body, tc.status, tc.want)
		}
	}
}

type fastOutInner struct {
	Ratio float32 `json:"ratio"`
	On    bool    `json:"on,omitempty"`
}

// fastOut has a field of every kind the encoding plan writes.
type fastOut struct {
	Name   string  `json:"name"`
	Note   string  `json:"note,omitempty"`
	Flag   bool    `json:"flag"`
	Small  int8    `json:"small,omitempty"`
	N      int     `json:"n"`
	Byte   uint8   `json:"byte"`
	Big    uint64  `json:"big,omitempty"`
	F      float64 `json:"f"`
	Inner  fastOutInner
	Tagged string `json:"<tag>"`
	hidden int
}

var fastOutPlan = compileFastEnc(reflect.TypeFor[fastOut]())

// encodeAgrees encodes v with the plan and, when the plan takes it, with
// json.Encoder, and fails when the bytes differ.
func encodeAgrees(t *testing.T, v fastOut) bool {
	t.Helper()
	got, ok := fastOutPlan.appendJSON(nil, unsafe.Pointer(&v))
	if !ok {
		return false
	}
	var want strings.Builder
	if err := json.NewEncoder(&want).Encode(&v); err != nil {
		t.Fatalf("%+v: the plan encoded what encoding/json refuses: %v", v, err)
	}
	if string(got)+"\n" != want.String() {
		t.Fatalf("%+v: the plan wrote %s, encoding/json %s", v, got, want.String())
	}
	return true
}

func TestFastJSONEncode(t *testing.T) {
	if fastOutPlan == nil {
		t.Fatal("no plan for a struct of plain fields")
	}
	for _, v := range []fastOut{
		{},
		{Name: "alice", N: 30, Flag: true, Note: "n", Small: -3, Byte: 255, Big: 1 << 63},
		{F: 1e21, Inner: fastOutInner{Ratio: 1e-7, On: true}},
		{F: 1e-6, Inner: fastOutInner{Ratio: 3.4e38}},
		{F: 123456789.125, Inner: fastOutInner{Ratio: 0.1}},
		{F: -0.000001234, N: -1 << 63},
		{Name: "a/b ~ 'quoted' = #1"},
		// Strings that need escapes are written as encoding/json writes
		// them (internal/jsonstr), HTML-safe.
		{Name: "<b>"}, {Name: "a&b"}, {Name: `a"b`}, {Name: `a\b`}, {Name: "a\nb"},
		{Note: "héllo"}, {Name: "\u2028"}, {Name: "\xff"}, {Name: "\b\f\x01"},
	} {
		if !encodeAgrees(t, v) {
			t.Errorf("%+v: the plan gave up on plain values", v)
		}
	}
	for _, v := range []fastOut{
		{F: math.Inf(1)}, {F: math.NaN()},
	} {
		if encodeAgrees(t, v) {
			t.Errorf("%+v: the plan took it; it must leave it to encoding/json", v)
		}
	}
	type withMarshaler struct{ T time.Time }
	type withPtr struct{ P *int }
	type withOmitZero struct {
		N int `json:"n,omitzero"`
	}
	twice := reflect.StructOf([]reflect.StructField{ // two fields named x (a literal would trip vet)
		{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"x"`},
		{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"x"`},
	})
	for _, typ := range []reflect.Type{reflect.TypeFor[withMarshaler](), reflect.TypeFor[withPtr](), reflect.TypeFor[withOmitZero](), twice, reflect.TypeFor[time.Time]()} {
		if compileFastEnc(typ) != nil {
			t.Errorf("%s: got a plan; encoding/json must encode it", typ)
		}
	}
}

// FuzzFastJSONEncode holds the encoding plan to encoding/json: the bytes
// are the same whenever the plan writes them.
func FuzzFastJSONEncode(f *testing.F) {
	f.Add("alice", "", true, int8(1), int64(30), uint8(2), uint64(3), 1.5, float32(0.25))
	f.Add("<x>", "é", false, int8(-128), int64(-1), uint8(0), uint64(0), 1e-7, float32(1e21))
	f.Fuzz(func(t *testing.T, name, note string, flag bool, small int8, n int64, by uint8, big uint64, fl float64, ratio float32) {
		encodeAgrees(t, fastOut{Name: name, Note: note, Flag: flag, Small: small, N: int(n), Byte: by, Big: big, F: fl, Inner: fastOutInner{Ratio: ratio, On: flag}})
	})
}

// TestFastJSONEncodeFallback: an answer whose strings need escaping is
// written with the same bytes as encoding/json writes.
func TestFastJSONEncodeFallback(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	app := New(Config{})
	Post(app, "/p", func(_ context.Context, in *struct{ Body body }) (*struct{ Body body }, error) {
		return &struct{ Body body }{in.Body}, nil
	})
	srv := epServer(t, app)
	for _, name := range []string{"plain", "<b>&", "héllo", "tab\there"} {
		in := body{Name: name, N: 7}
		req, _ := json.Marshal(in)
		want, _ := json.Marshal(in)
		r := epDo(t, srv, "POST", "/p", "application/json", string(req))
		if r.status != 200 || strings.TrimSpace(r.body) != string(want) {
			t.Errorf("%q: %d %s, want %s", name, r.status, r.body, want)
		}
	}
}

// TestFastJSONBindJSON: DecodeJSON (c.BindJSON's decoder) takes the plan
// for a plain struct and leaves a body it cannot take entirely to
// encoding/json: the target ends as it would without the plan, values set
// before the call included, and so does the error.
func TestFastJSONBindJSON(t *testing.T) {
	type target struct {
		Name string `json:"name"`
		N    int    `json:"n"`
		Keep string `json:"keep"`
	}
	for _, body := range []string{
		`{"name":"a","n":1}`, `{}`, `{"NAME":"b","n":2}`, `{"name":"a","n":"x"}`,
		`{"name":"a","n":1} x`, `{"name":"a","n":1,"n":2}`, `{"name":"a",`, `{"keep":null}`,
	} {
		got, want := target{Keep: "preset"}, target{Keep: "preset"}
		err := DecodeJSON([]byte(body), &got, false)
		werr := decodeJSON([]byte(body), &want, false) // encoding/json alone
		if got != want || (err == nil) != (werr == nil) {
			t.Errorf("%s: %+v (error %v), encoding/json alone %+v (error %v)", body, got, err, want, werr)
		}
	}
	if d, _ := fastDecFor(&target{}); d == nil {
		t.Error("no plan for a plain struct")
	}
	if d, _ := fastDecFor(&struct{ S []int }{}); d != nil {
		t.Error("a plan for a struct with a slice")
	}
	if d, _ := fastDecFor((*target)(nil)); d != nil {
		t.Error("a plan for a nil pointer")
	}
}

// TestFastJSONCtxJSON: c.JSON writes json.Marshal's bytes for plain
// structs (by value and by pointer, through the plan) and for everything
// else (through encoding/json).
func TestFastJSONCtxJSON(t *testing.T) {
	type plain struct {
		Name string `json:"name"`
		N    int    `json:"n,omitempty"`
	}
	values := []any{
		plain{"a", 1}, &plain{"b", 0}, &plain{"<esc>", 2}, (*plain)(nil),
		map[string]int{"x": 1}, []plain{{"c", 3}}, struct{}{}, 7, "s",
	}
	app := New(Config{})
	app.GET("/j/{i}", func(c *Ctx) error {
		i, _ := strconv.Atoi(c.Param("i"))
		return c.JSON(http.StatusOK, values[i])
	})
	srv := epServer(t, app)
	for i := range values {
		want, _ := json.Marshal(values[i])
		if r := epDo(t, srv, "GET", "/j/"+strconv.Itoa(i), "", ""); r.status != 200 || r.body != string(want) {
			t.Errorf("%#v: %d %s, want %s", values[i], r.status, r.body, want)
		}
	}
	if e, _ := fastEncFor(&plain{}); e == nil {
		t.Error("no plan for a plain struct pointer")
	}
}
