package msgpack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/graftgo/graft"
	lib "github.com/vmihailenco/msgpack/v5"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// jsonToMsgpack writes the JSON document doc as msgpack, keeping its keys
// in order, duplicates included: the same body in the other encoding.
func jsonToMsgpack(t testing.TB, doc string) []byte {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var out bytes.Buffer
	if err := mpFromJSON(d, &out); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return out.Bytes()
}

func mpFromJSON(d *json.Decoder, out *bytes.Buffer) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	enc := lib.NewEncoder(out)
	switch v := tok.(type) {
	case json.Delim:
		var inner bytes.Buffer
		n := 0
		for d.More() {
			if v == '{' {
				k, err := d.Token()
				if err != nil {
					return err
				}
				if err := lib.NewEncoder(&inner).EncodeString(k.(string)); err != nil {
					return err
				}
			}
			if err := mpFromJSON(d, &inner); err != nil {
				return err
			}
			n++
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return err
		}
		if v == '{' {
			err = enc.EncodeMapLen(n)
		} else {
			err = enc.EncodeArrayLen(n)
		}
		out.Write(inner.Bytes())
		return err
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return enc.EncodeInt(i)
		}
		f, _ := v.Float64()
		return enc.EncodeFloat64(f)
	case string:
		return enc.EncodeString(v)
	case bool:
		return enc.EncodeBool(v)
	case nil:
		return enc.EncodeNil()
	}
	return nil
}

// problemOf is an answer's status and its failures, "location: message",
// sorted.
func problemOf(t *testing.T, r result) (int, []string) {
	t.Helper()
	if r.status < 400 {
		return r.status, nil
	}
	var p graft.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("not a problem document: %s", r.body)
	}
	var l []string
	for _, e := range p.Errors {
		l = append(l, e.Location+": "+e.Message)
	}
	slices.Sort(l)
	return r.status, l
}

// The same bodies sent as JSON and as msgpack get the same answers:
// presence, locations and messages at every depth.
func TestPresenceMsgpackMatchesJSON(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/p", func(_ context.Context, in *presIn) (*struct{ Body presBody }, error) {
		return &struct{ Body presBody }{in.Body}, nil
	})
	srv := server(t, app)
	const base = `"tenant":"t","qty":0,"active":false`
	cases := []struct {
		name   string
		body   string
		fields []string // nil: accepted
	}{
		{"explicit zeros satisfy required", `{` + base + `}`, nil},
		{"absent required", `{"tenant":"t"}`, []string{"body.active", "body.qty"}},
		{"null is not sent", `{"tenant":"t","qty":null,"active":false}`, []string{"body.qty"}},
		{"sent optional fields are checked", `{` + base + `,"min":0,"name":""}`, []string{"body.min", "body.name"}},
		{"optional fields sent valid", `{` + base + `,"min":1,"name":"ab"}`, nil},
		{"embedded required", `{"qty":1,"active":true}`, []string{"body.tenant"}},
		{"embedded pointer checked when sent", `{` + base + `,"flag":0}`, []string{"body.flag"}},
		{"embedded pointer absent", `{` + base + `}`, nil},
		{"sent nested struct", `{` + base + `,"home":{"zip":"1"},"addr":{"city":"","zip":"12345"}}`, []string{"body.home.city", "body.home.zip"}},
		{"null pointer is absent", `{` + base + `,"addr":null}`, nil},
		{"null nested struct is not sent", `{` + base + `,"home":null}`, nil},
		{"slice of structs", `{` + base + `,"items":[{"qty":0},{"qty":1,"note":"abc"},{"note":"ab"}]}`, []string{"body.items[2].note", "body.items[2].qty"}},
		{"null element has nothing sent", `{` + base + `,"items":[{"qty":0},null]}`, []string{"body.items[1].qty"}},
		{"null pointer element is absent", `{` + base + `,"ptrs":[null,{"qty":0},{}]}`, []string{"body.ptrs[2].qty"}},
		{"map values", `{` + base + `,"stock":{"pen":{"qty":0},"ink":{"note":"x"},"a\"b":{}}}`, []string{"body.stock.a\"b.qty", "body.stock.ink.note", "body.stock.ink.qty"}},
		{"map values pass", `{` + base + `,"stock":{"pen":{"qty":0},"ink":{"qty":3,"note":"abc"}}}`, nil},
		{"map value with a wrong min", `{` + base + `,"stock":{"pen":{"qty":-1}}}`, []string{"body.stock.pen.qty"}},
		{"array elements", `{` + base + `,"pair":[{"qty":0},{"note":"abc"}]}`, []string{"body.pair[1].qty"}},
		{"escaped keys", `{"ten\u0061nt":"t","q\u0074y":0,"\u0061ctive":true}`, nil},
		{"a field given twice", `{` + base + `,"qty":1}`, []string{"body.qty"}},
		{"twice, once null", `{` + base + `,"qty":null}`, []string{"body.qty"}},
		{"unknown subtrees are skipped", `{` + base + `,"x":{"qty":"s","items":[{"a":[1,{"b":"}"}]}]},"y":"\"{["}`, nil},
		{"unknown keys around known ones", `{"z":1,` + base + `,"items":[{"zz":[],"qty":0}],"zzz":{}}`, nil},
		{"wrong type reported once", `{` + base + `,"items":[{"qty":"zero"}]}`, []string{"body.items[0].qty"}},
		{"body null", `null`, []string{"body.active", "body.qty", "body.tenant"}},
		{"empty object", `{}`, []string{"body.active", "body.qty", "body.tenant"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			js, jl := problemOf(t, do(t, srv, "POST", "/p", "application/json", tc.body))
			ms, ml := problemOf(t, do(t, srv, "POST", "/p", "application/msgpack", string(jsonToMsgpack(t, tc.body))))
			if js != ms || !slices.Equal(jl, ml) {
				t.Fatalf("answers differ\njson    %d %q\nmsgpack %d %q", js, jl, ms, ml)
			}
			want := 200
			if tc.fields != nil {
				want = 422
			}
			var locs []string
			for _, l := range ml {
				locs = append(locs, l[:strings.Index(l, ": ")])
			}
			if ms != want || !slices.Equal(locs, tc.fields) {
				t.Errorf("status %d, fields %q; want %d %q", ms, locs, want, tc.fields)
			}
		})
	}
}

// msgpack names fields as vmihailenco/msgpack does: the msgpack tag, else
// the json one; aliases; exact names (no case folding).
type presMpNames struct {
	Qty   int    `msgpack:"q,alias:quantity" json:"qty" required:"true" min:"0"`
	Label string `json:"label" minLength:"2"`
	presMpInner
}

type presMpInner struct {
	Code int `json:"code" required:"true"`
}

func TestPresenceMsgpackNames(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/n", func(_ context.Context, in *struct{ Body presMpNames }) (*struct{ Status int }, error) {
		return &struct{ Status int }{204}, nil
	})
	srv := server(t, app)
	cases := []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{"q": 0, "code": 0}, nil},
		{map[string]any{"quantity": 0, "code": 0}, nil},
		{map[string]any{"quantity": -1, "code": 0, "label": "x"}, []string{"body.label", "body.qty"}},
		{map[string]any{"qty": 0, "code": 0}, []string{"body.qty"}}, // the msgpack tag wins
		{map[string]any{"Q": 0, "CODE": 0}, []string{"body.code", "body.qty"}},
	}
	for _, tc := range cases {
		r := do(t, srv, "POST", "/n", "application/msgpack", string(mpMarshal(t, tc.body)))
		if tc.fields == nil {
			if r.status != 204 {
				t.Errorf("%v: status %d: %s", tc.body, r.status, r.body)
			}
			continue
		}
		if got := fields(t, r.body); r.status != 422 || !slices.Equal(got, tc.fields) {
			t.Errorf("%v: status %d, fields %v, want 422 %v", tc.body, r.status, got, tc.fields)
		}
	}
}

func TestPresenceMsgpackHostileBodies(t *testing.T) {
	// The scan reads each byte a bounded number of times whatever the
	// body holds: these answer like any other body.
	app := withMsgpack(graft.New(graft.Config{BodyLimit: 8 << 20}))
	graft.Post(app, "/p", func(_ context.Context, in *presIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{204}, nil
	})
	srv := server(t, app)
	var many strings.Builder
	many.WriteString(`{"tenant":"t","qty":0,"active":true`)
	for i := range 100_000 {
		many.WriteString(`,"k` + strconv.Itoa(i) + `":1`)
	}
	many.WriteString(`}`)
	deep := `{"tenant":"t","qty":0,"active":true,"x":` + strings.Repeat(`[{"a":`, 4000) + `1` + strings.Repeat(`}]`, 4000) + `}`
	deepKnown := `{"tenant":"t","qty":0,"active":true,"home":{"city":"c","zip":` + strings.Repeat(`[`, 9000) + strings.Repeat(`]`, 9000) + `}}`
	var items strings.Builder
	items.WriteString(`{"tenant":"t","qty":0,"active":true,"items":[`)
	for i := range 50_000 {
		if i > 0 {
			items.WriteByte(',')
		}
		items.WriteString(`{"qty":1,"x":[1,2,{"y":{}}]}`)
	}
	items.WriteString(`]}`)
	for name, tc := range map[string]struct {
		body   string
		status int
	}{
		"100k unknown keys": {many.String(), 204},
		"4000 deep":         {deep, 204},
		"50k items":         {items.String(), 204},
		"deep wrong type":   {deepKnown, 422}, // zip is a string: the check answers, nothing decoded
	} {
		if r := do(t, srv, "POST", "/p", "application/msgpack", string(jsonToMsgpack(t, tc.body))); r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %.300s", name, r.status, tc.status, r.body)
		}
	}
	// Lengths larger than the body never reach the scan: the check
	// answers 400.
	for _, b := range [][]byte{
		{0x8f, 0xa3, 'q', 't', 'y', 0x00},                                   // a map of 15 pairs in 5 bytes
		{0x83, 0xa5, 'i', 't', 'e', 'm', 's', 0xdd, 0xff, 0xff, 0xff, 0xff}, // 4 G items
		{0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'q'},                           // a key of 4 GB
	} {
		if r := do(t, srv, "POST", "/p", "application/msgpack", string(b)); r.status != 400 {
			t.Errorf("% x: status %d, want 400: %s", b, r.status, r.body)
		}
	}
}

// Presence adds no allocation to a msgpack body either.
func TestPresenceMsgpackAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	measure := func(t *testing.T, app *graft.App[graft.Ctx], body []byte) float64 {
		t.Helper()
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(context.Background())
		w := &nopWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		r := httptest.NewRequest("POST", "/a", nil)
		r.Header.Set("Content-Type", "application/msgpack")
		rec := httptest.NewRecorder()
		r.Body = io.NopCloser(rd)
		app.ServeHTTP(rec, r)
		if rec.Code != 204 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return testing.AllocsPerRun(200, func() {
			rd.Reset(body)
			r.Body = io.NopCloser(rd)
			app.ServeHTTP(w, r)
		})
	}
	type out struct{ Status int }
	res := &out{Status: 204}
	// The first body passes the value pass; the others need the scan
	// (a required zero, a zero inside a map and a slice).
	for _, body := range []string{`{"name":"Ada","age":3}`, `{"name":"Ada","age":0,"nick":"ad","x":{"y":[1,2]}}`,
		`{"name":"Ada","age":1,"stock":{"pen":{"qty":0},"ink":{"qty":2,"note":"blue"}},"items":[{"qty":0},{"qty":3}]}`} {
		checked := withMsgpack(graft.New(graft.Config{}))
		graft.Post(checked, "/a", func(context.Context, *struct{ Body presAllocBody }) (*out, error) { return res, nil })
		plain := withMsgpack(graft.New(graft.Config{}))
		graft.Post(plain, "/a", func(context.Context, *struct{ Body presAllocPlain }) (*out, error) { return res, nil })
		mp := jsonToMsgpack(t, body)
		a, b := measure(t, checked, mp), measure(t, plain, mp)
		if a != b {
			t.Errorf("%s: %v allocs with presence tracking, %v without", body, a, b)
		}
	}
}

// BenchmarkPresenceMsgpackBySize serves a typed endpoint msgpack bodies
// of growing size that need the presence scan (a required zero): ns/op
// grows with the body (compare MB/s across sizes), not faster, and
// allocs/op does not grow with it.
func BenchmarkPresenceMsgpackBySize(b *testing.B) {
	app := withMsgpack(graft.New(graft.Config{BodyLimit: 16 << 20}))
	type out struct{ Status int }
	res := &out{Status: 204}
	graft.Post(app, "/p", func(context.Context, *presIn) (*out, error) { return res, nil })
	if err := app.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(context.Background())
	for _, n := range []int{10, 100, 1000, 10000} {
		var sb strings.Builder
		sb.WriteString(`{"tenant":"t","qty":0,"active":true,"items":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`{"qty":1,"note":"abcd","x":[1,{"y":2}]}`)
		}
		sb.WriteString(`],"stock":{"pen":{"qty":0}}}`)
		body := jsonToMsgpack(b, sb.String())
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rd := bytes.NewReader(body)
			r := httptest.NewRequest("POST", "/p", nil)
			r.Header.Set("Content-Type", "application/msgpack")
			r.Body = io.NopCloser(rd)
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, r)
			if rec.Code != 204 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
			w := &nopWriter{h: http.Header{}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				app.ServeHTTP(w, r)
			}
		})
	}
}

// Recursive types: the plan's cycles (location frames) answer the same in
// both encodings, at any depth.
func TestPresenceMsgpackRecursiveMatchesJSON(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	type ok struct{ Status int }
	graft.Post(app, "/w", func(context.Context, *struct{ Body recWrap }) (*ok, error) { return &ok{204}, nil })
	graft.Post(app, "/m", func(context.Context, *struct{ Body recMutA }) (*ok, error) { return &ok{204}, nil })
	srv := server(t, app)
	deepKids := `{"items":[` + strings.Repeat(`{"name":"n","children":[`, 200) + `{"name":""}` + strings.Repeat(`]}`, 200) + `]}`
	cases := []struct{ path, body string }{
		{"/w", `{"items":[{"name":"a","children":[{"name":""},{"name":"b","children":[{"name":""}]}]}]}`},
		{"/w", `{"by":{"x":{"name":"","sub":{"y":{"name":""},"z":{"name":"ok"}}},"n":null}}`},
		{"/w", deepKids},
		{"/w", `{"items":[{"name":"a"}],"by":{"k":{"name":"v"}}}`},
		{"/m", `{"name":"","b":{"tag":"long","a":{"b":{"a":{"name":""}}}}}`},
		{"/m", `{"b":{"tag":"abcd","a":{"b":{"tag":"x","a":{}}}}}`},
		{"/m", `{"name":"x","b":{"a":{"name":""}}}`},
	}
	for _, tc := range cases {
		js, jl := problemOf(t, do(t, srv, "POST", tc.path, "application/json", tc.body))
		ms, ml := problemOf(t, do(t, srv, "POST", tc.path, "application/msgpack", string(jsonToMsgpack(t, tc.body))))
		if js != ms || !slices.Equal(jl, ml) {
			t.Errorf("%.80s: answers differ\njson    %d %q\nmsgpack %d %q", tc.body, js, jl, ms, ml)
		}
	}
}
