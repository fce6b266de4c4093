package graft

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

type valItem struct {
	Qty  int    `json:"qty" min:"1"`
	Name string `json:"name" pattern:"^[a-z]+$"`
}

type valHolder struct {
	Items  map[string]valItem  `json:"items"`
	Ptrs   map[string]*valItem `json:"ptrs"`
	Arr    [3]valItem          `json:"arr"`
	Counts map[string]int      `json:"counts" min:"1" maxLength:"2"`
	Codes  [2]string           `json:"codes" pattern:"^[A-Z]+$"`
	Nested map[string][]valItem
}

// validateGo runs the Go-value validator (the one msgpack bodies use) on v.
func validateGo(t *testing.T, v *valHolder) []string {
	t.Helper()
	c, err := compileValidator(reflect.TypeFor[valHolder](), "body")
	if err != nil || c == nil {
		t.Fatalf("compileValidator: %v (nil check: %v)", err, c == nil)
	}
	var e errs
	c(unsafe.Pointer(v), &e)
	var locs []string
	for _, fe := range e.list {
		locs = append(locs, fe.Location)
	}
	return locs
}

func TestValidateMapsAndArrays(t *testing.T) {
	ok := valItem{Qty: 2, Name: "pen"}
	v := &valHolder{
		Items:  map[string]valItem{"a": ok, "b": {Qty: 0, Name: "pen"}, "c": {Qty: 3, Name: "PEN"}},
		Ptrs:   map[string]*valItem{"p": {Qty: -1, Name: "x"}, "nil": nil},
		Arr:    [3]valItem{ok, {Qty: 0, Name: "ok"}, ok},
		Counts: map[string]int{"x": 0, "y": 1, "z": 5},
		Codes:  [2]string{"AB", "cd"},
		Nested: map[string][]valItem{"k": {ok, {Qty: 9, Name: "9"}}},
	}
	want := []string{
		"body.items.b.qty", "body.items.c.name",
		"body.ptrs.p.qty",
		"body.arr[1].qty",
		"body.counts", "body.counts.x",
		"body.codes[1]",
		"body.Nested.k[1].name",
	}
	for range 20 { // map order is random; the failures come out sorted per map
		if got := validateGo(t, v); !slices.Equal(got, want) {
			t.Fatalf("failures\n got %v\nwant %v", got, want)
		}
	}
	good := &valHolder{Items: map[string]valItem{"a": ok}, Arr: [3]valItem{ok, ok, ok}, Codes: [2]string{"A", "B"}}
	if got := validateGo(t, good); len(got) != 0 {
		t.Errorf("valid value failed at %v", got)
	}
}

func TestValidateMapAllocs(t *testing.T) {
	// Walking a map copies each entry into pooled scratch: nothing is
	// allocated per entry, whatever the map's size.
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	c, err := compileValidator(reflect.TypeFor[valHolder](), "body")
	if err != nil {
		t.Fatal(err)
	}
	v := &valHolder{Items: map[string]valItem{}, Codes: [2]string{"A", "B"}}
	for i := range 1000 {
		v.Items[string(rune('a'+i%26))+string(rune('a'+i/26))] = valItem{Qty: 1, Name: "ok"}
	}
	for i := range 3 {
		v.Arr[i] = valItem{Qty: 1, Name: "ok"}
	}
	var e errs
	if n := testing.AllocsPerRun(100, func() { c(unsafe.Pointer(v), &e) }); n != 0 || len(e.list) != 0 {
		t.Errorf("validating a 1000-entry map: %v allocs, failures %v; want 0 and none", n, e.list)
	}
}

type mapsIn struct {
	Body struct {
		Items map[string]valItem `json:"items"`
		Arr   [3]valItem         `json:"arr"`
		Tags  map[string]string  `json:"tags" minLength:"1" pattern:"^[a-z]+$"`
	}
}

func TestEndpointMapsAndArrays(t *testing.T) {
	app := New(Config{})
	Post(app, "/m", func(context.Context, *mapsIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{Status: 204}, nil
	})
	srv := epServer(t, app)
	cases := []struct {
		body   string
		status int
		fields []string
	}{
		{`{"items":{"a":{"qty":1,"name":"pen"}},"arr":[{"qty":1,"name":"a"},{"qty":2,"name":"b"},{"qty":3,"name":"c"}],"tags":{"x":"ok"}}`, 204, nil},
		{`{"items":{"a":{"qty":0,"name":"pen"},"b":{"qty":5,"name":"X"}},"arr":[{"qty":1,"name":"a"},{"qty":-4,"name":"b"},{"qty":3,"name":"c"}],"tags":{"x":"ok","y":"NO"}}`, 422,
			[]string{"body.arr[1].qty", "body.items.a.qty", "body.items.b.name", "body.tags.y"}},
		{`{"arr":[{"qty":1,"name":"a"},{"qty":1,"name":"a"},{"qty":1,"name":"a"}],"tags":{}}`, 422, []string{"body.tags"}},
		// a value that did not decode is reported once, by the decoder: the
		// min on the zero left in its place is shadowed
		{`{"items":{"a":{"qty":"x","name":"pen"}},"arr":[{"qty":1,"name":"a"},{"qty":1,"name":"a"},{"qty":1,"name":"a"}],"tags":{"k":"v"}}`, 422, []string{"body.items.a.qty"}},
	}
	for _, tc := range cases {
		r := epDo(t, srv, "POST", "/m", "application/json", tc.body)
		if r.status != tc.status {
			t.Fatalf("%s: status %d, want %d: %s", tc.body, r.status, tc.status, r.body)
		}
		if tc.fields != nil {
			if got := epFields(t, r.body); !slices.Equal(got, tc.fields) {
				t.Errorf("%s: 422 fields\n got %v\nwant %v", tc.body, got, tc.fields)
			}
		}
	}
}

type boundIn struct {
	Name  string   `json:"name" minLength:"2" maxLength:"4"`
	Qty   int      `json:"qty" min:"1" max:"10"`
	Ratio float64  `json:"ratio" min:"0.5" max:"1.5"`
	Tags  []string `json:"tags" minLength:"1" maxLength:"3"`
}

// TestConstraintBoundaries: each bound holds exactly at its value and
// fails one past it (one rune, one unit, one item, or a hundredth for a
// float), so the test fails if a comparison moves by one. String lengths
// count runes: "éééé" is 4 characters in 8 bytes.
func TestConstraintBoundaries(t *testing.T) {
	c, err := compileValidator(reflect.TypeFor[boundIn](), "body")
	if err != nil || c == nil {
		t.Fatalf("compileValidator: %v (nil check: %v)", err, c == nil)
	}
	base := func() boundIn { return boundIn{Name: "abc", Qty: 5, Ratio: 1, Tags: []string{"a", "b"}} }
	for _, tc := range []struct {
		name string
		set  func(*boundIn)
		want string // "location: message", or "" for valid
	}{
		{"name at minLength", func(v *boundIn) { v.Name = "éé" }, ""},
		{"name under minLength", func(v *boundIn) { v.Name = "é" }, "body.name: must be at least 2 characters long"},
		{"name at maxLength", func(v *boundIn) { v.Name = "éééé" }, ""},
		{"name over maxLength", func(v *boundIn) { v.Name = "ééééé" }, "body.name: must be at most 4 characters long"},
		{"qty at min", func(v *boundIn) { v.Qty = 1 }, ""},
		{"qty under min", func(v *boundIn) { v.Qty = 0 }, "body.qty: must be at least 1"},
		{"qty at max", func(v *boundIn) { v.Qty = 10 }, ""},
		{"qty over max", func(v *boundIn) { v.Qty = 11 }, "body.qty: must be at most 10"},
		{"ratio at min", func(v *boundIn) { v.Ratio = 0.5 }, ""},
		{"ratio under min", func(v *boundIn) { v.Ratio = 0.49 }, "body.ratio: must be at least 0.5"},
		{"ratio at max", func(v *boundIn) { v.Ratio = 1.5 }, ""},
		{"ratio over max", func(v *boundIn) { v.Ratio = 1.51 }, "body.ratio: must be at most 1.5"},
		{"tags at minLength", func(v *boundIn) { v.Tags = []string{"a"} }, ""},
		{"tags under minLength", func(v *boundIn) { v.Tags = []string{} }, "body.tags: must have at least 1 items"},
		{"tags at maxLength", func(v *boundIn) { v.Tags = []string{"a", "b", "c"} }, ""},
		{"tags over maxLength", func(v *boundIn) { v.Tags = []string{"a", "b", "c", "d"} }, "body.tags: must have at most 3 items"},
	} {
		v := base()
		tc.set(&v)
		var e errs
		c(unsafe.Pointer(&v), &e)
		var got []string
		for _, fe := range e.list {
			got = append(got, fe.Location+": "+fe.Message)
		}
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: failed with %q, want valid", tc.name, got)
		case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
			t.Errorf("%s: failures %q, want [%q]", tc.name, got, tc.want)
		}
	}
}
