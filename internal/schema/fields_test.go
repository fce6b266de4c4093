package schema

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type Inner struct {
	A string `json:"a"`
	B int
	X int
}

type Other struct {
	X int  // ties with Inner.X at one depth: both dropped
	C bool `json:"c"`
}

type Deep struct{ D string }

type Mid struct {
	Deep
	M int `json:"m"`
}

type hidden struct {
	B string // hidden, as Inner.B is, by fieldsCase.B (shallower)
	H int    `json:"h"`
}

type Self struct {
	*Self
	S int `json:"s"`
}

type fieldsCase struct {
	Inner
	Other
	*Mid
	hidden
	B       string
	Skip    string `json:"-"`
	Dash    string `json:"-,"`
	Bad     int    `json:"x\\y"` // invalid name: the Go name is the key
	Quoted  *int   `json:"q,string"`
	Omit    string `json:"o,omitempty"`
	private int
	Self
}

// TestFieldsAreEncodingJSONs: the keys of a value with every field set
// are the names StructOf lists, and each field's Offsets reach the field
// FieldByIndex reaches.
func TestFieldsAreEncodingJSONs(t *testing.T) {
	n := 1
	v := fieldsCase{Mid: &Mid{Deep: Deep{D: "d"}, M: 1}, Quoted: &n, Omit: "o", private: 1}
	v.Inner = Inner{A: "a", B: 1, X: 1}
	v.Other = Other{X: 2, C: true}
	v.hidden = hidden{B: "hb", H: 1}
	v.B, v.Skip, v.Dash, v.Bad = "b", "s", "dash", 1
	v.Self = Self{Self: &Self{S: 2}, S: 1}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s, err := StructOf(reflect.TypeFor[fieldsCase]())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if !slices.Equal(keys, names) {
		t.Errorf("StructOf lists %v; encoding/json writes %v (%s)", names, keys, b)
	}
	rv := reflect.ValueOf(&v).Elem()
	for _, f := range s.Fields {
		want := rv.FieldByIndex(f.Index).Addr().UnsafePointer()
		if got := f.Ptr(rv.Addr().UnsafePointer()); got != want {
			t.Errorf("%s: Ptr %p, FieldByIndex %p", f.Name, got, want)
		}
	}
	if f := s.Lookup("Q"); f == nil || f.Name != "q" || !f.Quoted {
		t.Errorf(`Lookup("Q") = %+v, want the quoted field q`, f)
	}
	var nilMid fieldsCase
	if f := s.Lookup("m"); f.Ptr(reflect.ValueOf(&nilMid).UnsafePointer()) != nil {
		t.Error("a field behind a nil embedded pointer has an address")
	}
}

type tagsCase struct {
	Age   int      `json:"age" required:"true" min:"18" max:"130" doc:"years" example:"42" deprecated:"true"`
	Name  string   `json:"name" minLength:"1" maxLength:"20" pattern:"^[a-z]+$"`
	Mail  string   `json:"mail" format:"email" enum:"a@b.c,d@e.f"`
	Tags  []string `json:"tags" maxLength:"3"`
	Plain string
}

func TestFieldTags(t *testing.T) {
	s, err := StructOf(reflect.TypeFor[tagsCase]())
	if err != nil {
		t.Fatal(err)
	}
	age := s.Fields[0]
	if !age.Required || *age.Constraints.Min != 18 || *age.Constraints.Max != 130 || age.Doc != "years" || age.Example != "42" || !age.HasExample || !age.Deprecated {
		t.Errorf("age: %+v", age)
	}
	name := s.Fields[1].Constraints
	if *name.MinLength != 1 || *name.MaxLength != 20 || name.Pattern != "^[a-z]+$" {
		t.Errorf("name: %+v", name)
	}
	if mail := s.Fields[2].Constraints; mail.Format != "email" || !slices.Equal(mail.Enum, []string{"a@b.c", "d@e.f"}) {
		t.Errorf("mail: %+v", mail)
	}
	if s.Fields[4].Checked() {
		t.Error("Plain has no checks")
	}
	if !HasChecks(reflect.TypeFor[[]map[string]*tagsCase]()) || HasChecks(reflect.TypeFor[Inner]()) {
		t.Error("HasChecks")
	}
}

func TestTagMistakes(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{struct {
			N int `min:"x"`
		}{}, `field struct { N int "min:\"x\"" }.N: min:"x" is not a number`},
		{struct {
			N string `format:"ipv4"`
		}{}, `format:"ipv4" is unknown`},
		{struct {
			N int `json:"n,string" min:"1"`
		}{}, `constraints on a ",string" field`},
		{struct {
			N int `deprecated:"yes"`
		}{}, `deprecated:"yes": use deprecated:"true"`},
	} {
		_, err := StructOf(reflect.TypeOf(c.v))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: %v, want %q", c.v, err, c.want)
		}
	}
}
