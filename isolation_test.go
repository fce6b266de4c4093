package graft

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

type itemBody struct {
	Name string `json:"name" required:"true"`
	Qty  int    `json:"qty" min:"0"`
}

type itemIn struct {
	Body itemBody
}

type itemOut struct {
	Status int `default:"201"`
	Body   itemBody
}

func itemApp(t *testing.T) *App[Ctx] {
	t.Helper()
	app := New(Config{})
	Post(app, "/items", func(_ context.Context, in *itemIn) (*itemOut, error) {
		return &itemOut{Body: in.Body}, nil
	})
	return app
}

// TestJSONTrailingData: a body with data after its JSON value is a 400,
// for typed endpoints and Ctx.BindJSON alike; trailing whitespace is fine.
func TestJSONTrailingData(t *testing.T) {
	app := itemApp(t)
	app.POST("/bind", func(c *Ctx) error {
		var b itemBody
		if err := c.BindJSON(&b); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, b)
	})
	srv := epServer(t, app)
	cases := []struct {
		body   string
		status int
	}{
		{`{"name":"pen","qty":3}]`, 400},
		{`{"name":"pen","qty":3}}`, 400},
		{`{"name":"pen","qty":3} x`, 400},
		{`{"name":"pen","qty":3} {"name":"pen"}`, 400},
		{`{"name":"pen","qty":"3"}]`, 400}, // a wrong type does not hide the trailing data
		{"{\"name\":\"pen\",\"qty\":3}\n\t \r\n", 201},
		{`  {"name":"pen","qty":3}`, 201},
	}
	for _, tc := range cases {
		r := epDo(t, srv, "POST", "/items", "application/json", tc.body)
		if r.status != tc.status {
			t.Errorf("typed %q: %d %s, want %d", tc.body, r.status, r.body, tc.status)
		}
		if tc.status == 400 && !strings.Contains(r.body, "data after the JSON value") {
			t.Errorf("typed %q: detail does not name the trailing data: %s", tc.body, r.body)
		}
		want := tc.status
		if want == 201 {
			want = 200
		}
		if r := epDo(t, srv, "POST", "/bind", "application/json", tc.body); r.status != want {
			t.Errorf("BindJSON %q: %d %s, want %d", tc.body, r.status, r.body, want)
		}
	}
}

// TestPooledDecoderIsolation interleaves hostile and valid requests on one
// endpoint with GOMAXPROCS=1, so that every request reuses the same pooled
// decoder, and checks that every valid request gets its own answer. Before
// the fix, a body with trailing bytes left them buffered in the pooled
// decoder and the next request failed with "malformed JSON at byte 37".
func TestPooledDecoderIsolation(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	srv := epServer(t, itemApp(t))
	hostile := []string{
		`{"name":"pen","qty":3}]`,
		`{"name":"pen","qty":3}}}}}`,
		`{"name":"pen","qty":3} {"name":"x","qty":1}`,
		`{"name":"pen","qty":3`,
		`{"name" 1}`,
		`{"name":"pen","qty":"many"}`,
		`{"name":"pen","qty":3,"zz":1}]`,
		`[1,2,3]`,
		`"just a string" "and another"`,
		strings.Repeat(`{"a":`, 40),
	}
	for round := 0; round < 3; round++ {
		for i, h := range hostile {
			if r := epDo(t, srv, "POST", "/items", "application/json", h); r.status < 400 || r.status >= 500 {
				t.Errorf("hostile %q answered %d %s", h, r.status, r.body)
			}
			name := fmt.Sprintf("item-%d-%d", round, i)
			r := epDo(t, srv, "POST", "/items", "application/json", fmt.Sprintf(`{"name":%q,"qty":%d}`, name, i))
			var got itemBody
			if r.status != 201 || json.Unmarshal([]byte(r.body), &got) != nil || got.Name != name || got.Qty != i {
				t.Fatalf("valid request after hostile %q: %d %s", h, r.status, r.body)
			}
		}
	}
}

// TestDecoderPooledOnlyClean checks the pooled decoder directly: after
// each kind of bad input, the next decode sees only its own bytes.
func TestDecoderPooledOnlyClean(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, bad := range []string{`{"qty":1}]`, `{"qty":1} 2`, `{"qty":`, `{"qty":"x"}`} {
		for _, forbid := range []bool{false, true} {
			var b itemBody
			var e errs
			_ = decodeJSONBody([]byte(bad), &b, forbid, &e)
			b, e = itemBody{}, errs{}
			if err := decodeJSONBody([]byte(`{"name":"ok","qty":7}`), &b, forbid, &e); err != nil || len(e.list) != 0 || b.Name != "ok" || b.Qty != 7 {
				t.Fatalf("after %q (forbid %v): %v %v %+v", bad, forbid, err, e.list, b)
			}
			err := decodeJSONBody([]byte(`{"name" 1}`), &b, forbid, &e)
			if he, ok := err.(*HTTPError); !ok || !strings.Contains(he.Detail, "at byte 9") {
				t.Fatalf("after %q: syntax error offset not this request's: %v", bad, err)
			}
		}
	}
}

type tagsIn struct {
	Body struct {
		Tags []string `json:"tags" pattern:"^[a-z]+$"`
	}
}

func tagsBody(n int, elem string) string {
	return `{"tags":[` + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + `]}`
}

// TestFieldErrorsCapped: a body with many failing values answers one 422
// listing at most maxFieldErrors of them, says the list was cut, and stays
// small; shadowed validation noise never takes a slot.
func TestFieldErrorsCapped(t *testing.T) {
	app := New(Config{})
	Post(app, "/tags", func(_ context.Context, in *tagsIn) (*struct{}, error) { return &struct{}{}, nil })
	srv := epServer(t, app)
	for _, tc := range []struct {
		name      string
		body      string
		listed    int
		truncated bool
		msg       string
	}{
		{"wrong types", tagsBody(16<<10, "1"), maxFieldErrors, true, "must be a string"},
		{"pattern", tagsBody(16<<10, `"A"`), maxFieldErrors, true, "must match"},
		{"long values", tagsBody(300, `"`+strings.Repeat("X", 2000)+`"`), maxFieldErrors, true, "must match"},
		{"few", tagsBody(3, "1"), 3, false, "must be a string"},
		// The documented cap is 100 (written out, so that the test fails
		// if maxFieldErrors moves).
		{"exactly the cap", tagsBody(100, `"A"`), 100, false, "must match"},
		{"one over the cap", tagsBody(101, `"A"`), 100, true, "must match"},
	} {
		r := epDo(t, srv, "POST", "/tags", "application/json", tc.body)
		var p Problem
		if r.status != 422 || json.Unmarshal([]byte(r.body), &p) != nil {
			t.Fatalf("%s: %d %.300s", tc.name, r.status, r.body)
		}
		if len(p.Errors) != tc.listed || p.ErrorsTruncated != tc.truncated {
			t.Errorf("%s: %d errors listed, truncated %v; want %d, %v", tc.name, len(p.Errors), p.ErrorsTruncated, tc.listed, tc.truncated)
		}
		for i, fe := range p.Errors {
			if want := fmt.Sprintf("body.tags[%d]", i); fe.Location != want || !strings.HasPrefix(fe.Message, tc.msg) {
				t.Errorf("%s: error %d is %+v, want %s %q…", tc.name, i, fe, want, tc.msg)
				break
			}
		}
		for _, fe := range p.Errors {
			if s, _ := fe.Value.(string); len(s) > maxErrorValue {
				t.Errorf("%s: echoed value of %d bytes", tc.name, len(s))
				break
			}
		}
		if len(r.body) > 64<<10 {
			t.Errorf("%s: answer of %d bytes", tc.name, len(r.body))
		}
	}
}

// TestFieldErrorWorkLinear counts the work of a failing body by its
// allocations, which are deterministic: eight times the items costs at
// most about eight times the work (quadratic work would be 64 times).
func TestFieldErrorWorkLinear(t *testing.T) {
	app := New(Config{})
	Post(app, "/tags", func(_ context.Context, in *tagsIn) (*struct{}, error) { return &struct{}{}, nil })
	allocs := func(body string) float64 {
		return testing.AllocsPerRun(3, func() {
			w := &discardWriter{h: http.Header{}}
			r, _ := http.NewRequest("POST", "/tags", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			app.ServeHTTP(w, r)
			if w.status != 422 {
				t.Fatalf("status %d", w.status)
			}
		})
	}
	for _, elem := range []string{"1", `"A"`} {
		small, large := allocs(tagsBody(2<<10, elem)), allocs(tagsBody(16<<10, elem))
		if ratio := large / small; ratio > 10 {
			t.Errorf("elements %s: %.0f allocs at 16k items vs %.0f at 2k (×%.1f): work grows faster than the body", elem, large, small, ratio)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return len(b), nil
}
func (w *discardWriter) WriteHeader(s int) { w.status = s }

func TestLocUnder(t *testing.T) {
	idx := [8]int{3, 12}
	for _, tc := range []struct {
		tmpl, prefix string
		n            int
		want         bool
	}{
		{"body.tags[]", "body.tags[3]", 1, true},
		{"body.tags[]", "body.tags[4]", 1, false},
		{"body.tags[]", "body.tags", 1, true},
		{"body.tags[]", "body.tag", 1, false},
		{"body.items[].tags[]", "body.items[3].tags[12]", 2, true},
		{"body.items[].tags[]", "body.items[3].tags[1]", 2, false},
		{"body.items[].name", "body.items[3]", 1, true},
		{"body.items[].name", "body.items[31]", 1, false},
		{"body.items[].name", "body.items[3].name", 1, true},
		{"body.items[].namex", "body.items[3].name", 1, false},
		{"body.name", "body.name", 0, true},
		{"body.names", "body.name", 0, false},
		{"body.tags[]", "body.tags[]", 0, true},
	} {
		if got := locUnder(tc.tmpl, &idx, nil, tc.n, tc.prefix); got != tc.want {
			t.Errorf("locUnder(%q, n=%d, %q) = %v", tc.tmpl, tc.n, tc.prefix, got)
		}
	}
}
