package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type userBody struct {
	Name  string   `json:"name" msgpack:"name" required:"true" minLength:"2" maxLength:"20"`
	Age   int      `json:"age" msgpack:"age" min:"0" max:"150"`
	Email string   `json:"email,omitempty" msgpack:"email" format:"email"`
	Role  string   `json:"role,omitempty" msgpack:"role" enum:"admin,user"`
	Tags  []string `json:"tags,omitempty" msgpack:"tags" maxLength:"3" pattern:"^[a-z]+$"`
}

type createIn struct {
	ID     int       `path:"id" min:"1"`
	Limit  int       `query:"limit" default:"10" max:"100"`
	Sort   *string   `query:"sort" enum:"asc,desc"`
	IDs    []int     `query:"ids"`
	Token  string    `header:"X-Token" required:"true" pattern:"^[a-z0-9]+$"`
	Ref    string    `cookie:"ref"`
	Body   userBody  `unknown:"forbid"`
	hidden string    //nolint:unused // unexported fields are ignored
	Bus    *struct{} `plugin:""`
}

type createOut struct {
	Status    int    `default:"201"`
	RequestID string `header:"X-Request-Id"`
	Body      struct {
		ID    int      `json:"id" msgpack:"id"`
		Limit int      `json:"limit" msgpack:"limit"`
		Sort  string   `json:"sort" msgpack:"sort"`
		IDs   []int    `json:"ids" msgpack:"ids"`
		Token string   `json:"token" msgpack:"token"`
		Ref   string   `json:"ref" msgpack:"ref"`
		User  userBody `json:"user" msgpack:"user"`
		Bus   bool     `json:"bus" msgpack:"bus"`
	}
}

func createUser(_ context.Context, in *createIn) (*createOut, error) {
	out := &createOut{RequestID: "req-1"}
	b := &out.Body
	b.ID, b.Limit, b.IDs, b.Token, b.Ref, b.User, b.Bus = in.ID, in.Limit, in.IDs, in.Token, in.Ref, in.Body, in.Bus != nil
	if in.Sort != nil {
		b.Sort = *in.Sort
	}
	return out, nil
}

type epResult struct {
	status int
	header http.Header
	body   string
}

func epDo(t *testing.T, srv *httptest.Server, method, path, ctype, body string, hdr ...string) epResult {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return epResult{res.StatusCode, res.Header, string(b)}
}

func epServer(t *testing.T, app interface {
	ServeHTTP(http.ResponseWriter, *http.Request)
}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(app.(http.Handler))
	t.Cleanup(srv.Close)
	return srv
}

func epFields(t *testing.T, body string) []string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a problem document: %s", body)
	}
	var locs []string
	for _, e := range p.Errors {
		locs = append(locs, e.Location)
	}
	slices.Sort(locs)
	return locs
}

func TestEndpointBinding(t *testing.T) {
	app := New(Config{BodyLimit: 512})
	Post(app, "/users/{id}", createUser, Plugins(nilBus))
	srv := epServer(t, app)

	good := `{"name":"Ada","age":36,"email":"ada@example.com","role":"admin","tags":["x","y"]}`
	cases := []struct {
		name        string
		path, ctype string
		body        string
		hdr         []string
		status      int
		want        string   // substring of the body
		fields      []string // sorted locations of a 422
	}{
		{name: "ok", path: "/users/7?limit=5&sort=asc&ids=1&ids=2", ctype: "application/json", body: good,
			hdr: []string{"X-Token", "abc", "Cookie", "ref=home"}, status: 201,
			want: `{"id":7,"limit":5,"sort":"asc","ids":[1,2],"token":"abc","ref":"home","user":{"name":"Ada","age":36,"email":"ada@example.com","role":"admin","tags":["x","y"]},"bus":false}`},
		{name: "default and no content type", path: "/users/7", body: good, hdr: []string{"X-Token", "abc"}, status: 201, want: `"limit":10,"sort":""`},
		{name: "malformed json", path: "/users/7", ctype: "application/json", body: `{"name":`, hdr: []string{"X-Token", "abc"}, status: 400, want: "truncated"},
		{name: "syntax error", path: "/users/7", ctype: "application/json", body: `{"name" "x"}`, hdr: []string{"X-Token", "abc"}, status: 400, want: "malformed JSON"},
		{name: "too large", path: "/users/7", ctype: "application/json", body: `{"name":"` + strings.Repeat("a", 600) + `"}`, hdr: []string{"X-Token", "abc"}, status: 413},
		{name: "wrong media type", path: "/users/7", ctype: "text/xml", body: `<x/>`, hdr: []string{"X-Token", "abc"}, status: 415},
		{name: "every failing field", path: "/users/0?limit=500&sort=up&ids=1&ids=x", ctype: "application/json",
			body: `{"name":"A","age":200,"email":"nope","role":"root","tags":["a","B","c","d"]}`, hdr: []string{"X-Token", "ABC"}, status: 422,
			fields: []string{"body.age", "body.email", "body.name", "body.role", "body.tags", "body.tags[1]", "header.x-token", "path.id", "query.ids", "query.limit", "query.sort"}},
		{name: "missing required", path: "/users/abc", ctype: "application/json", body: ``, status: 422,
			fields: []string{"body", "header.x-token", "path.id"}},
		{name: "wrong json type", path: "/users/3", ctype: "application/json", body: `{"name":"Ada","age":"old"}`, hdr: []string{"X-Token", "abc"}, status: 422,
			fields: []string{"body.age"}},
		{name: "unknown field forbidden", path: "/users/3", ctype: "application/json", body: `{"name":"Ada","admin":true}`, hdr: []string{"X-Token", "abc"}, status: 422,
			fields: []string{"body.admin"}},
		{name: "every unknown field and wrong type", path: "/users/3", ctype: "application/json", body: `{"name":"Ada","admin":true,"age":"old","tags":["ok",7],"zz":{"a":1}}`, hdr: []string{"X-Token", "abc"}, status: 422,
			fields: []string{"body.admin", "body.age", "body.tags[1]", "body.zz"}},
		{name: "plugin field never read", path: "/users/3?Bus=1&bus=1", ctype: "application/json", body: good, hdr: []string{"X-Token", "abc", "Bus", "1"}, status: 201, want: `"bus":false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := epDo(t, srv, "POST", tc.path, tc.ctype, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.want != "" && !strings.Contains(r.body, tc.want) {
				t.Errorf("body %s\nwant it to contain %s", r.body, tc.want)
			}
			if r.status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q, want problem+json", r.header.Get("Content-Type"))
			}
			if tc.fields != nil {
				if got := epFields(t, r.body); !slices.Equal(got, tc.fields) {
					t.Errorf("422 fields\n got %v\nwant %v\n%s", got, tc.fields, r.body)
				}
			}
			if r.status == 201 && r.header.Get("X-Request-Id") != "req-1" {
				t.Errorf("X-Request-Id = %q", r.header.Get("X-Request-Id"))
			}
		})
	}
}

type formIn struct {
	Name   string                  `form:"name" required:"true"`
	Count  int                     `form:"count"`
	Avatar *multipart.FileHeader   `form:"avatar"`
	Extra  []*multipart.FileHeader `form:"extra"`
}

type formOut struct {
	Body struct {
		Name   string `json:"name"`
		Count  int    `json:"count"`
		Avatar string `json:"avatar"`
		Size   int64  `json:"size"`
		Extra  int    `json:"extra"`
	}
}

func TestEndpointForm(t *testing.T) {
	app := New(Config{})
	Post(app, "/form", func(_ context.Context, in *formIn) (*formOut, error) {
		out := &formOut{}
		out.Body.Name, out.Body.Count, out.Body.Extra = in.Name, in.Count, len(in.Extra)
		if in.Avatar != nil {
			out.Body.Avatar, out.Body.Size = in.Avatar.Filename, in.Avatar.Size
		}
		return out, nil
	})
	srv := epServer(t, app)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("name", "Ada")
	_ = mw.WriteField("count", "3")
	fw, _ := mw.CreateFormFile("avatar", "ada.png")
	_, _ = fw.Write([]byte("PNGDATA"))
	fw, _ = mw.CreateFormFile("extra", "a.txt")
	_, _ = fw.Write([]byte("a"))
	fw, _ = mw.CreateFormFile("extra", "b.txt")
	_, _ = fw.Write([]byte("b"))
	_ = mw.Close()

	cases := []struct {
		name, ctype, body string
		status            int
		want              string
	}{
		{"multipart", mw.FormDataContentType(), buf.String(), 200, `{"name":"Ada","count":3,"avatar":"ada.png","size":7,"extra":2}`},
		{"urlencoded is refused when files are expected", "application/x-www-form-urlencoded", "name=Ada", 415, ""},
		{"json is not a form", "application/json", `{}`, 415, ""},
	}
	for _, tc := range cases {
		r := epDo(t, srv, "POST", "/form", tc.ctype, tc.body)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}

	app2 := New(Config{})
	type urlIn struct {
		Name  string `form:"name" required:"true"`
		Count int    `form:"count" min:"1"`
	}
	Post(app2, "/f", func(_ context.Context, in *urlIn) (*formOut, error) {
		out := &formOut{}
		out.Body.Name, out.Body.Count = in.Name, in.Count
		return out, nil
	})
	srv2 := epServer(t, app2)
	if r := epDo(t, srv2, "POST", "/f", "application/x-www-form-urlencoded", "name=Ada&count=2"); r.status != 200 || !strings.Contains(r.body, `"count":2`) {
		t.Errorf("urlencoded: %d %s", r.status, r.body)
	}
	if r := epDo(t, srv2, "POST", "/f", "application/x-www-form-urlencoded", "count=0"); r.status != 422 ||
		!slices.Equal(epFields(t, r.body), []string{"form.count", "form.name"}) {
		t.Errorf("urlencoded 422: %d %s", r.status, r.body)
	}
}

func TestEndpointOutput(t *testing.T) {
	app := New(Config{})
	type rawOut struct {
		ContentType string `header:"Content-Type"`
		Body        []byte
	}
	type textOut struct{ Body string }
	type noBody struct{ Status int }
	type ptrBody struct{ Body *struct{ A int } }
	Get(app, "/raw", func(context.Context, *struct{}) (*rawOut, error) {
		return &rawOut{ContentType: "image/png", Body: []byte("PNG")}, nil
	})
	Get(app, "/text", func(context.Context, *struct{}) (*textOut, error) { return &textOut{Body: "hi"}, nil })
	Delete(app, "/x", func(context.Context, *struct{}) (*noBody, error) { return &noBody{Status: 204}, nil })
	Get(app, "/nil", func(context.Context, *struct{}) (*ptrBody, error) { return nil, nil })
	Get(app, "/nilbody", func(context.Context, *struct{}) (*ptrBody, error) { return &ptrBody{}, nil })
	Put(app, "/err", func(context.Context, *struct{}) (*noBody, error) {
		return nil, NewError(http.StatusConflict, "taken")
	})
	Patch(app, "/plain", func(context.Context, *struct{}) (*noBody, error) { return nil, errors.New("boom") })
	srv := epServer(t, app)
	cases := []struct {
		method, path string
		status       int
		ctype, body  string
	}{
		{"GET", "/raw", 200, "image/png", "PNG"},
		{"GET", "/text", 200, "text/plain; charset=utf-8", "hi"},
		{"DELETE", "/x", 204, "", ""},
		{"GET", "/nil", 200, "", ""},
		{"GET", "/nilbody", 200, "", ""},
		{"PUT", "/err", 409, "application/problem+json", `"detail":"taken"`},
		{"PATCH", "/plain", 500, "application/problem+json", `"status":500`},
	}
	for _, tc := range cases {
		r := epDo(t, srv, tc.method, tc.path, "", "")
		if r.status != tc.status || r.header.Get("Content-Type") != tc.ctype || !strings.Contains(r.body, tc.body) {
			t.Errorf("%s %s: %d %q %q", tc.method, tc.path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}

func TestEndpointSetupMistakes(t *testing.T) {
	type out struct{}
	cases := []struct {
		name    string
		pattern string
		reg     func(a *App[Ctx], pattern string)
		want    []string
	}{
		{"unknown tag", "/x", func(a *App[Ctx], p string) {
			type in struct {
				ID int `qeury:"id"`
			}
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"GET /x", "field ID", `unknown tag "qeury"`}},
		{"path tag without wildcard", "/x/{id}", func(a *App[Ctx], p string) {
			type in struct {
				ID  int `path:"id"`
				Bad int `path:"uid"`
			}
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"GET /x/{id}", "field Bad", `path:"uid" names no wildcard`}},
		{"wildcard without field", "/x/{id}", func(a *App[Ctx], p string) {
			Get(a, p, func(context.Context, *struct{}) (*out, error) { return nil, nil })
		}, []string{"GET /x/{id}", "{id} has no field", `path:"id"`}},
		{"unsupported type", "/x", func(a *App[Ctx], p string) {
			type in struct {
				M map[string]int `query:"m"`
			}
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"GET /x", "field M", "cannot be bound"}},
		{"untagged field", "/x", func(a *App[Ctx], p string) {
			type in struct{ Name string }
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"field Name has no source tag"}},
		{"bad constraint", "/x", func(a *App[Ctx], p string) {
			type in struct {
				N int `query:"n" minLength:"2"`
			}
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"field N", "use min/max"}},
		{"bad output field", "/x", func(a *App[Ctx], p string) {
			type badOut struct{ Name string }
			Get(a, p, func(context.Context, *struct{}) (*badOut, error) { return nil, nil })
		}, []string{"output field Name"}},
		{"bad default", "/x", func(a *App[Ctx], p string) {
			type in struct {
				N int `query:"n" default:"ten"`
			}
			Get(a, p, func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"field N", `default:"ten"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				msg, _ := v.(string)
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("panic %q\nlacks %q", msg, w)
					}
				}
			}()
			tc.reg(New(Config{}), tc.pattern)
			t.Error("no panic")
		})
	}
}

func TestSignature(t *testing.T) {
	app := New(Config{})
	ri := Post(app, "/users/{id}", createUser, Plugins(nilBus))
	static := Get(app, "/health", func(context.Context, *struct{}) (*struct{ Body string }, error) { return nil, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	sig := SignatureOf(ri)
	if sig == nil || sig.Route != "/users/{id}" || sig.Method != "POST" || sig.Static() {
		t.Fatalf("signature %+v", sig)
	}
	names := func(ps []Param) (n []string) {
		for _, p := range ps {
			n = append(n, string(p.In)+":"+p.Name)
		}
		return n
	}
	if got := names(sig.Params()); !slices.Equal(got, []string{"path:id", "query:limit", "query:sort", "query:ids", "header:X-Token", "cookie:ref"}) {
		t.Errorf("params %v", got)
	}
	if sig.Body == nil || sig.Body.Type != reflect.TypeFor[userBody]() || !sig.Body.Required || !sig.Body.ForbidUnknown {
		t.Errorf("body %+v", sig.Body)
	}
	if len(sig.Plugins) != 1 || sig.Plugins[0].Name != "Bus" {
		t.Errorf("plugins %+v", sig.Plugins)
	}
	if sig.StatusCode() != 201 || sig.MediaType() != "application/json" || sig.DefaultReturn().Headers[0].Name != "X-Request-Id" {
		t.Errorf("returns %+v", sig.Returns)
	}
	if p := sig.QueryParams[0]; p.Default != "10" || *p.Constraints.Max != 100 {
		t.Errorf("limit param %+v", p)
	}
	if s := SignatureOf(static); s == nil || !s.Static() {
		t.Errorf("static signature %+v", s)
	}
}

func TestEndpointNoBodyLimit(t *testing.T) {
	app := New(Config{BodyLimit: -1})
	type in struct{ Body []byte }
	type out struct{ Body string }
	Post(app, "/echo", func(_ context.Context, in *in) (*out, error) {
		return &out{Body: strings.ToUpper(string(in.Body))}, nil
	})
	srv := epServer(t, app)
	big := strings.Repeat("a", 3<<20)
	if r := epDo(t, srv, "POST", "/echo", "application/octet-stream", big); r.status != 200 || len(r.body) != len(big) || r.body[:3] != "AAA" {
		t.Errorf("%d, %d bytes", r.status, len(r.body))
	}
}

func TestJSONDecoderReuse(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for i := 0; i < 50; i++ {
		var b body
		var e errs
		in := `{"name":"x` + strings.Repeat("y", i) + `","n":` + string(rune('0'+i%10)) + "}\n\n"
		if err := decodeJSONBody([]byte(in), &b, i%2 == 0, &e); err != nil || len(e.list) > 0 || len(b.Name) != i+1 || b.N != i%10 {
			t.Fatalf("round %d: %v %v %+v", i, err, e.list, b)
		}
	}
	var b body
	var e errs
	err := decodeJSONBody([]byte(`{"name" 1}`), &b, false, &e)
	if he, ok := err.(*HTTPError); !ok || he.Status != 400 || !strings.Contains(he.Detail, "at byte 9") {
		t.Errorf("syntax error after reuse: %v", err)
	}
	if err := decodeJSONBody([]byte(`{"n":1} {"n":2}`), &b, false, &e); err == nil {
		t.Error("two values accepted")
	}
	if err := decodeJSONBody([]byte(`{"n":3}`), &b, false, &e); err != nil || b.N != 3 {
		t.Errorf("after two values: %v %+v", err, b)
	}
}

// TestEndpointEscapedSlash binds wildcards of a path holding "%2F": the
// slash stays inside its segment and the bound value is decoded, as
// Ctx.Param returns it.
func TestEndpointEscapedSlash(t *testing.T) {
	type in struct {
		Dir  string `path:"dir"`
		Name string `path:"name"`
	}
	type out struct {
		Body string
	}
	app := New(Config{})
	Get(app, "/files/{dir}/{name}", func(_ context.Context, i *in) (*out, error) {
		return &out{Body: i.Dir + "|" + i.Name}, nil
	})
	app.GET("/raw/{dir}/{name}", func(c *Ctx) error { return c.Text(http.StatusOK, c.Param("dir")+"|"+c.Param("name")) })
	srv := epServer(t, app)
	for path, want := range map[string]string{
		"/files/a%2Fb/c%20d": "a/b|c d",
		"/files/x/y%25z":     "x|y%z",
		"/raw/a%2Fb/c%20d":   "a/b|c d",
		"/raw/a%2F%2e%2e/n":  "a/..|n",
	} {
		if r := epDo(t, srv, "GET", path, "", ""); r.status != http.StatusOK || strings.TrimSpace(r.body) != want {
			t.Errorf("GET %s = %d %s, want 200 %s", path, r.status, r.body, want)
		}
	}
}
