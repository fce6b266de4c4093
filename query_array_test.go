package graft

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

type arraysIn struct {
	IDs    []int    `query:"ids"`                                  // ?ids=1&ids=2
	CSV    []int    `query:"csv" explode:"false"`                  // ?csv=1,2
	Def    []int    `query:"def" explode:"false" default:"3,4"`    // default split like a request
	One    []string `query:"one" default:"a b"`                    // exploded default: one item
	Tags   []string `query:"tags" explode:"false" default:"x,y"`   // mutated by the handler
	Hdr    []string `header:"X-Tags" default:"p, q"`               // a header list
	Ranged []int    `query:"ranged" explode:"false" maxLength:"3"` // checked on the items
}

type arraysOut struct {
	Body struct {
		IDs, CSV, Def, Ranged []int
		One, Tags, Hdr        []string
	}
}

func TestQueryArrayStyles(t *testing.T) {
	app := New(Config{})
	ri := Get(app, "/a", func(_ context.Context, in *arraysIn) (*arraysOut, error) {
		o := &arraysOut{}
		b := &o.Body
		b.IDs, b.CSV, b.Def, b.One, b.Tags, b.Hdr, b.Ranged = in.IDs, in.CSV, in.Def, in.One, append([]string(nil), in.Tags...), in.Hdr, in.Ranged
		if len(in.Tags) > 0 {
			in.Tags[0] = "changed" // must not reach the next request's default
		}
		return o, nil
	})
	srv := epServer(t, app)
	type want struct {
		IDs, CSV, Def, Ranged []int
		One, Tags, Hdr        []string
	}
	get := func(t *testing.T, q string, hdr ...string) (int, want, string) {
		t.Helper()
		r := epDo(t, srv, "GET", "/a?"+q, "", "", hdr...)
		var w want
		if r.status == 200 {
			if err := json.Unmarshal([]byte(r.body), &w); err != nil {
				t.Fatal(err)
			}
		}
		return r.status, w, r.body
	}
	eq := func(a, b any) bool {
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		return string(x) == string(y)
	}
	for _, tc := range []struct {
		q    string
		hdr  []string
		want want
	}{
		{"", nil, want{Def: []int{3, 4}, One: []string{"a b"}, Tags: []string{"x", "y"}, Hdr: []string{"p", "q"}}},
		{"ids=1&ids=2&csv=1,2&def=5&one=b&one=c&tags=t&ranged=1,2,3", []string{"X-Tags", "a, b", "X-Tags", "c"},
			want{IDs: []int{1, 2}, CSV: []int{1, 2}, Def: []int{5}, One: []string{"b", "c"}, Tags: []string{"t"}, Hdr: []string{"a", "b", "c"}, Ranged: []int{1, 2, 3}}},
		// Both keys and commas on a comma field: every item is taken.
		{"csv=1,2&csv=3&" + url.Values{"tags": {"u,v"}}.Encode(), nil,
			want{CSV: []int{1, 2, 3}, Def: []int{3, 4}, One: []string{"a b"}, Tags: []string{"u", "v"}, Hdr: []string{"p", "q"}}},
		// The default again, after a handler changed its copy.
		{"", nil, want{Def: []int{3, 4}, One: []string{"a b"}, Tags: []string{"x", "y"}, Hdr: []string{"p", "q"}}},
	} {
		st, got, body := get(t, tc.q, tc.hdr...)
		if st != 200 || !eq(got, tc.want) {
			t.Errorf("?%s: %d %s, want %+v", tc.q, st, body, tc.want)
		}
	}
	// A comma on an exploded field is data, not a separator; the items of
	// a comma field are checked like any.
	for q, loc := range map[string]string{"ids=1,2": "query.ids", "ranged=1,2,3,4": "query.ranged", "csv=1,x": "query.csv"} {
		st, _, body := get(t, q)
		if st != 422 || !strings.Contains(body, `"location":"`+loc) {
			t.Errorf("?%s: %d %s, want a 422 at %s", q, st, body, loc)
		}
	}
	explode := map[string]bool{}
	for _, p := range SignatureOf(ri).Params() {
		explode[p.Name] = p.Explode
	}
	for name, ex := range map[string]bool{"ids": true, "csv": false, "def": false, "one": true, "tags": false, "X-Tags": false} {
		if explode[name] != ex {
			t.Errorf("Param %s: Explode %v, want %v", name, explode[name], ex)
		}
	}
}

func TestFormArrayStyles(t *testing.T) {
	type in struct {
		Keys []string `form:"keys"`
		CSV  []int    `form:"csv" explode:"false"`
	}
	app := New(Config{})
	Post(app, "/f", func(_ context.Context, in *in) (*okOut, error) {
		b, _ := json.Marshal(in)
		return &okOut{Body: string(b)}, nil
	})
	srv := epServer(t, app)
	r := epDo(t, srv, "POST", "/f", "application/x-www-form-urlencoded", "keys=a,b&keys=c&csv=1,2&csv=3")
	if r.status != 200 || !strings.Contains(r.body, `{"Keys":["a,b","c"],"CSV":[1,2,3]}`) {
		t.Errorf("form arrays: %d %s", r.status, r.body)
	}
}

func TestArrayStyleSetupMistakes(t *testing.T) {
	cases := []struct {
		name string
		reg  func(a *App[Ctx])
		want string
	}{
		{"comma in an exploded default", func(a *App[Ctx]) {
			type in struct {
				IDs []int `query:"ids" default:"1,2"`
			}
			Get(a, "/a", func(context.Context, *in) (*struct{}, error) { return nil, nil })
		}, `endpoint GET /a: field IDs: default:"1,2" on a slice read from repeated keys (?ids=1&ids=2) is one item, and it has a comma; tag the field explode:"false"`},
		{"explode on a scalar", func(a *App[Ctx]) {
			type in struct {
				ID int `query:"id" explode:"false"`
			}
			Get(a, "/a", func(context.Context, *in) (*struct{}, error) { return nil, nil })
		}, `endpoint GET /a: field ID: explode:"false" applies to slice query and form fields only`},
		{"explode on a header", func(a *App[Ctx]) {
			type in struct {
				H []string `header:"X-H" explode:"false"`
			}
			Get(a, "/a", func(context.Context, *in) (*struct{}, error) { return nil, nil })
		}, `field H: explode:"false" applies to slice query and form fields only`},
		{"bad explode value", func(a *App[Ctx]) {
			type in struct {
				IDs []int `query:"ids" explode:"no"`
			}
			Get(a, "/a", func(context.Context, *in) (*struct{}, error) { return nil, nil })
		}, `field IDs: explode:"no": use explode:"false" for comma-separated values (?ids=1,2)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q\nwant %q", msg, tc.want)
				}
			}()
			tc.reg(New(Config{}))
		})
	}
}
