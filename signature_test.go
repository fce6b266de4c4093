package graft

import (
	"context"
	"mime/multipart"
	"reflect"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

// AddParam files each param under its own location: form params in
// Form.Fields, never among the headers.
func TestSignatureAddParamLocations(t *testing.T) {
	type formIn struct {
		Name string `form:"name"`
	}
	app := New(Config{})
	var added []Param
	plug := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		for _, p := range added {
			sig.AddParam(p)
		}
		return next, nil
	})
	added = []Param{
		{Name: "trace", In: InQuery},
		{Name: "X-Key", In: InHeader},
		{Name: "sid", In: InCookie},
		{Name: "csrf", In: InForm},
		{Name: "avatar", In: InForm, File: true, Type: reflect.TypeFor[*multipart.FileHeader]()},
	}
	ri := Post(app, "/f", func(context.Context, *formIn) (*struct{}, error) { return nil, nil }, Plugins(plug))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	sig := SignatureOf(ri)
	names := func(ps []Param) (s []string) {
		for _, p := range ps {
			s = append(s, p.Name)
		}
		return s
	}
	for _, c := range []struct {
		what string
		got  []string
		want string
	}{
		{"query", names(sig.QueryParams), "trace"},
		{"header", names(sig.HeaderParams), "X-Key"},
		{"cookie", names(sig.CookieParams), "sid"},
		{"form", names(sig.Form.Fields), "name,csrf,avatar"},
	} {
		if strings.Join(c.got, ",") != c.want {
			t.Errorf("%s params %v, want %s", c.what, c.got, c.want)
		}
	}
	if !sig.Form.Multipart {
		t.Error("a file param added to the form did not make it multipart")
	}

	// On an endpoint without a form, a form param makes one.
	s := &Signature{Method: "POST", Route: "/g"}
	s.AddParam(Param{Name: "token", In: InForm})
	if s.Form == nil || len(s.Form.Fields) != 1 || s.Form.Multipart || len(s.HeaderParams) != 0 {
		t.Fatalf("form %+v, headers %v", s.Form, s.HeaderParams)
	}
}

// Params AddParam cannot file stop start-up naming the endpoint, the
// plugin and the param.
func TestSignatureAddParamMistakes(t *testing.T) {
	type jsonIn struct{ Body struct{ N int } }
	cases := []struct {
		name string
		p    Param
		want string
	}{
		{"body", Param{Name: "payload", In: InBody}, `param "payload" with location body on POST /j; the body is not a param`},
		{"no location", Param{Name: "x"}, `param "x" on POST /j has location ""`},
		{"form on a body endpoint", Param{Name: "csrf", In: InForm}, `form field "csrf" on POST /j, which reads a struct { N int } body`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := New(Config{})
			Post(app, "/j", func(context.Context, *jsonIn) (*struct{}, error) { return nil, nil },
				Plugins(NamedPlugin("adder", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
					sig.AddParam(tc.p)
					return next, nil
				}))))
			err := app.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), "endpoint POST /j: plugin adder") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start error %v, want %q", err, tc.want)
			}
		})
	}
}
