package graft

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An Out.Status outside 100–999 is the handler's mistake: it answers 500
// (not an empty 200) and the log names the endpoint and the status.
func TestEndpointOutStatusOutOfRange(t *testing.T) {
	app, logs := newApp(t, Config{})
	type out struct {
		Status int
		Tag    string `header:"X-Tag"`
		Body   struct{ A int }
	}
	for _, s := range []int{1000, 99, -1} {
		Get(app, "/s"+strings.ReplaceAll(strconv.Itoa(s), "-", "m"), func(context.Context, *struct{}) (*out, error) {
			return &out{Status: s, Tag: "t"}, nil
		})
	}
	srv := epServer(t, app)
	for _, s := range []int{1000, 99, -1} {
		path := "/s" + strings.ReplaceAll(strconv.Itoa(s), "-", "m")
		r := epDo(t, srv, "GET", path, "", "")
		if r.status != 500 || r.header.Get("Content-Type") != mediaProblem || r.header.Get("X-Tag") != "" {
			t.Errorf("Status %d: got %d %q X-Tag=%q %s", s, r.status, r.header.Get("Content-Type"), r.header.Get("X-Tag"), r.body)
		}
		if l := logs.String(); !containsAll(l, "route="+path, "Out.Status "+strconv.Itoa(s)) {
			t.Errorf("Status %d: log does not name the endpoint and status:\n%s", s, l)
		}
	}
}

// A plain handler that sends an invalid status answers 500 too: the writer
// is not marked written before net/http rejects the code.
func TestPlainStatusOutOfRange(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/bad", func(c *Ctx) error { c.Status(1000); return nil })
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/bad", "", ""); r.status != 500 || r.header.Get("Content-Type") != mediaProblem {
		t.Errorf("got %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// closeRecorder is a reader that records being closed.
type closeRecorder struct {
	io.Reader
	closed chan struct{}
}

func (r *closeRecorder) Close() error { close(r.closed); return nil }

// failingReader yields some bytes, then fails.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n = 0
		return copy(p, "partial,"), nil
	}
	return 0, errors.New("disk gone")
}

// io.Reader, text/html, vendor JSON and empty bodies, each over a real
// listener and in the signature.
func TestEndpointOtherBodies(t *testing.T) {
	app, logs := newApp(t, Config{})
	type csvOut struct {
		Body io.Reader `mediaType:"text/csv"`
	}
	type rcOut struct {
		ContentType string `header:"Content-Type"`
		Body        io.ReadCloser
	}
	type htmlOut struct {
		Body string `mediaType:"text/html; charset=utf-8"`
	}
	type vendorOut struct {
		Body struct {
			A int `json:"a"`
		} `mediaType:"application/vnd.graft.item+json"`
	}
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	closed := make(chan struct{})
	routes := map[string]*Route{
		"csv": Get(app, "/csv", func(context.Context, *struct{}) (*csvOut, error) {
			return &csvOut{Body: strings.NewReader("a,b\n1,2\n")}, nil
		}),
		"big": Get(app, "/big", func(context.Context, *struct{}) (*csvOut, error) {
			return &csvOut{Body: strings.NewReader(big)}, nil
		}),
		"nilreader": Get(app, "/nilreader", func(context.Context, *struct{}) (*csvOut, error) { return &csvOut{}, nil }),
		"closer": Get(app, "/closer", func(context.Context, *struct{}) (*rcOut, error) {
			return &rcOut{ContentType: "image/png", Body: &closeRecorder{Reader: strings.NewReader("PNG"), closed: closed}}, nil
		}),
		"failing": Get(app, "/failing", func(context.Context, *struct{}) (*csvOut, error) {
			return &csvOut{Body: &failingReader{n: 1}}, nil
		}),
		"html": Get(app, "/html", func(context.Context, *struct{}) (*htmlOut, error) {
			return &htmlOut{Body: "<h1>hi</h1>"}, nil
		}),
		"vendor": Get(app, "/vendor", func(context.Context, *struct{}) (*vendorOut, error) {
			o := &vendorOut{}
			o.Body.A = 1
			return o, nil
		}),
		"empty": Delete(app, "/empty", func(context.Context, *struct{}) (*NoContent, error) { return nil, nil }),
		"plain": Get(app, "/plain", func(context.Context, *struct{}) (*struct{ Body string }, error) {
			return &struct{ Body string }{Body: "hi"}, nil
		}),
	}
	srv := epServer(t, app)
	cases := []struct {
		path, ctype, body string
		status            int
		hdr               []string
	}{
		{"/csv", "text/csv", "a,b\n1,2\n", 200, nil},
		{"/big", "text/csv", big, 200, nil},
		{"/nilreader", "", "", 200, nil},
		{"/closer", "image/png", "PNG", 200, nil},
		{"/failing", "text/csv", "partial,", 200, nil},
		{"/html", "text/html; charset=utf-8", "<h1>hi</h1>", 200, nil},
		{"/vendor", "application/vnd.graft.item+json", `{"a":1}` + "\n", 200, []string{"Accept", "application/msgpack"}},
		{"/empty", "", "", 204, nil},
		{"/plain", "text/plain; charset=utf-8", "hi", 200, nil},
	}
	for _, tc := range cases {
		method := "GET"
		if tc.path == "/empty" {
			method = "DELETE"
		}
		r := epDo(t, srv, method, tc.path, "", "", tc.hdr...)
		if r.status != tc.status || r.header.Get("Content-Type") != tc.ctype || r.body != tc.body {
			t.Errorf("%s: %d %q %.40q", tc.path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("the io.ReadCloser body was not closed within 5s")
	}
	if l := logs.String(); !containsAll(l, "route=/failing", "streaming the response body: disk gone") {
		t.Errorf("the failed read is not logged with the route:\n%s", l)
	}
	want := map[string]Return{
		"csv":    {Status: 200, Type: reflect.TypeFor[io.Reader](), MediaType: "text/csv", Encoder: "stream"},
		"closer": {Status: 200, Type: reflect.TypeFor[io.ReadCloser](), MediaType: "application/octet-stream", Encoder: "stream", Headers: []Param{{Name: "Content-Type", In: InHeader, Field: "ContentType", Type: reflect.TypeFor[string]()}}},
		"html":   {Status: 200, Type: reflect.TypeFor[string](), MediaType: "text/html; charset=utf-8", Encoder: "raw"},
		"vendor": {Status: 200, Type: reflect.TypeFor[vendorOut]().Field(0).Type, MediaType: "application/vnd.graft.item+json", Encoder: "json"},
		"empty":  {Status: 204},
		"plain":  {Status: 200, Type: reflect.TypeFor[string](), MediaType: "text/plain; charset=utf-8", Encoder: "raw"},
	}
	for name, w := range want {
		w.Description = http.StatusText(w.Status)
		if got := SignatureOf(routes[name]).Returns[0]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s: default return\n got %+v\nwant %+v", name, got, w)
		}
	}
}

func TestEndpointBodyMediaTypeMistakes(t *testing.T) {
	type structHTML struct {
		Body struct{ A int } `mediaType:"text/html"`
	}
	type badMedia struct {
		Body string `mediaType:"text/"`
	}
	type ifaceBody struct{ Body error }
	app := New(Config{})
	for _, tc := range []struct {
		reg  func()
		want string
	}{
		{func() { Get(app, "/a", func(context.Context, *struct{}) (*structHTML, error) { return nil, nil }) }, `output field Body: a struct { A int } body is encoded as JSON or msgpack, not as "text/html"`},
		{func() { Get(app, "/b", func(context.Context, *struct{}) (*badMedia, error) { return nil, nil }) }, `output field Body: mediaType "text/" is not a media type`},
		{func() { Get(app, "/c", func(context.Context, *struct{}) (*ifaceBody, error) { return nil, nil }) }, `output field Body: a body of interface type error cannot be encoded`},
	} {
		if msg := mustPanic(t, tc.reg); !strings.Contains(msg, tc.want) {
			t.Errorf("panic %q lacks %q", msg, tc.want)
		}
	}
}
