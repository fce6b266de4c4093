package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type presItem struct {
	Qty  int    `json:"qty" required:"true" min:"0"`
	Note string `json:"note" minLength:"3"` // optional: checked only when sent
}

type presBase struct {
	Tenant string `json:"tenant" required:"true"`
}

type PresExtra struct {
	Flag int `json:"flag" min:"1"`
}

type presBody struct {
	presBase
	*PresExtra
	Qty    int                 `json:"qty" required:"true"`
	Active bool                `json:"active" required:"true"`
	Min    int                 `json:"min" min:"1"` // optional
	Name   string              `json:"name" minLength:"2"`
	Addr   *presAddr           `json:"addr"`
	Home   presAddr            `json:"home"`
	Items  []presItem          `json:"items"`
	Stock  map[string]presItem `json:"stock"`
	Pair   [2]presItem         `json:"pair"`
	Ptrs   []*presItem         `json:"ptrs"`
}

type presAddr struct {
	City string `json:"city" required:"true"`
	Zip  string `json:"zip" pattern:"^[0-9]{5}$"`
}

type presIn struct {
	Body presBody
}

func presServer(t *testing.T) *httptest.Server {
	app := New(Config{})
	Post(app, "/p", func(_ context.Context, in *presIn) (*struct{ Body presBody }, error) {
		return &struct{ Body presBody }{in.Body}, nil
	})
	return epServer(t, app)
}

func TestPresenceJSON(t *testing.T) {
	srv := presServer(t)
	const base = `"tenant":"t","qty":0,"active":false`
	cases := []struct {
		name   string
		body   string
		fields []string // nil: accepted
	}{
		{"explicit zeros satisfy required", `{` + base + `}`, nil},
		{"absent required", `{"tenant":"t"}`, []string{"body.active", "body.qty"}},
		{"null is not sent", `{"tenant":"t","qty":null,"active":false}`, []string{"body.qty"}},
		{"absent optional constrained fields pass", `{` + base + `}`, nil},
		{"sent optional fields are checked", `{` + base + `,"min":0,"name":""}`, []string{"body.min", "body.name"}},
		{"embedded required", `{"qty":1,"active":true}`, []string{"body.tenant"}},
		{"embedded pointer checked when sent", `{` + base + `,"flag":0}`, []string{"body.flag"}},
		{"absent nested struct is not looked into", `{` + base + `}`, nil},
		{"sent nested struct", `{` + base + `,"home":{"zip":"1"},"addr":{"city":"","zip":"12345"}}`, []string{"body.home.city", "body.home.zip"}},
		{"null pointer is absent", `{` + base + `,"addr":null}`, nil},
		{"slice of structs", `{` + base + `,"items":[{"qty":0},{"qty":1,"note":"abc"},{"note":"ab"}]}`, []string{"body.items[2].note", "body.items[2].qty"}},
		{"null element has nothing sent", `{` + base + `,"items":[{"qty":0},null]}`, []string{"body.items[1].qty"}},
		{"null pointer element is absent", `{` + base + `,"ptrs":[null,{"qty":0},{}]}`, []string{"body.ptrs[2].qty"}},
		{"map values", `{` + base + `,"stock":{"pen":{"qty":0},"ink":{"note":"x"},"a\"b":{}}}`, []string{"body.stock.a\"b.qty", "body.stock.ink.note", "body.stock.ink.qty"}},
		{"map with escaped key", `{` + base + `,"stock":{"p\u0065n":{"qty":-1}}}`, []string{"body.stock.pen.qty"}},
		{"array elements", `{` + base + `,"pair":[{"qty":0},{"note":"abc"}]}`, []string{"body.pair[1].qty"}},
		{"array: extra elements dropped", `{` + base + `,"pair":[{"qty":0},{"qty":0},{}]}`, nil},
		{"keys match case-insensitively", `{"TENANT":"t","Qty":0,"aCtIvE":false}`, nil},
		{"escaped keys", `{"ten\u0061nt":"t","q\u0074y":0,"\u0061ctive":true}`, nil},
		{"a field given twice", `{` + base + `,"qty":1}`, []string{"body.qty"}},
		{"twice through case folding", `{` + base + `,"QTY":1}`, []string{"body.qty"}},
		{"twice, once null", `{` + base + `,"qty":null}`, []string{"body.qty"}},
		{"unknown subtrees are skipped", `{` + base + `,"x":{"qty":"s","items":[{"a":[1,{"b":"}"}]}]},"y":"\"{["}`, nil},
		{"wrong type reported once", `{` + base + `,"items":[{"qty":"zero"}]}`, []string{"body.items[0].qty"}},
		{"body null", `null`, []string{"body.active", "body.qty", "body.tenant"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := epDo(t, srv, "POST", "/p", "application/json", tc.body)
			if tc.fields == nil {
				if r.status != 200 {
					t.Fatalf("status %d, want 200: %s", r.status, r.body)
				}
				return
			}
			if r.status != 422 {
				t.Fatalf("status %d, want 422: %s", r.status, r.body)
			}
			if got := epFields(t, r.body); !slices.Equal(got, tc.fields) {
				t.Errorf("422 fields\n got %q\nwant %q\n%s", got, tc.fields, r.body)
			}
		})
	}
}

func TestPresenceMessages(t *testing.T) {
	srv := presServer(t)
	r := epDo(t, srv, "POST", "/p", "application/json", `{"tenant":"t","qty":1,"qty":2,"items":[{"note":"x"}]}`)
	var p Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range p.Errors {
		got[e.Location] = e.Message
	}
	if got["body.qty"] != "is given more than once" || got["body.items[0].qty"] != "is required" || got["body.active"] != "is required" || got["body.items[0].note"] != "must be at least 3 characters long" {
		t.Errorf("messages %v", got)
	}
}

func TestPresenceHostileBodies(t *testing.T) {
	// Unknown subtrees are skipped without recursion and keys outside the
	// plan cost a comparison each: these answer like any other body.
	app := New(Config{BodyLimit: 4 << 20})
	Post(app, "/p", func(_ context.Context, in *presIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{204}, nil
	})
	srv := epServer(t, app)
	var many strings.Builder
	many.WriteString(`{"tenant":"t","qty":0,"active":true`)
	for i := range 100_000 {
		many.WriteString(`,"k`)
		many.WriteString(strings.Repeat("x", i%7))
		many.WriteString(`":1`)
	}
	many.WriteString(`}`)
	deep := `{"tenant":"t","qty":0,"active":true,"x":` + strings.Repeat(`[{"a":`, 4000) + `1` + strings.Repeat(`}]`, 4000) + `}`
	var items strings.Builder
	items.WriteString(`{"tenant":"t","qty":0,"active":true,"items":[`)
	for i := range 50_000 {
		if i > 0 {
			items.WriteByte(',')
		}
		items.WriteString(`{"qty":1}`)
	}
	items.WriteString(`]}`)
	for name, body := range map[string]string{"100k unknown keys": many.String(), "4000 deep": deep, "50k items": items.String()} {
		if r := epDo(t, srv, "POST", "/p", "application/json", body); r.status != 204 {
			t.Errorf("%s: status %d: %.300s", name, r.status, r.body)
		}
	}
}

type presParamsIn struct {
	N      int    `query:"n" required:"true" min:"0"`
	Opt    int    `query:"opt" min:"1"`
	Tok    string `header:"X-Tok" required:"true"`
	Lang   string `header:"X-Lang" minLength:"2"`
	Sess   string `cookie:"sess" required:"true"`
	Pref   string `cookie:"pref" enum:"a,b"`
	Sorted []int  `query:"s" minLength:"2"`
}

func TestPresenceParams(t *testing.T) {
	// Params know presence from the lookup: the same rules as the body.
	app := New(Config{})
	Get(app, "/q", func(context.Context, *presParamsIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{204}, nil
	})
	srv := epServer(t, app)
	cases := []struct {
		query  string
		hdr    []string
		fields []string
	}{
		{"?n=0", []string{"X-Tok", "", "Cookie", "sess="}, nil}, // explicit zero and empty values are sent
		{"", nil, []string{"cookie.sess", "header.x-tok", "query.n"}},
		{"?n=0&opt=0&s=1", []string{"X-Tok", "t", "X-Lang", "e", "Cookie", "sess=1; pref=c"}, []string{"cookie.pref", "header.x-lang", "query.opt", "query.s"}},
	}
	for _, tc := range cases {
		r := epDo(t, srv, "GET", "/q"+tc.query, "", "", tc.hdr...)
		if tc.fields == nil {
			if r.status != 204 {
				t.Errorf("%s %v: status %d: %s", tc.query, tc.hdr, r.status, r.body)
			}
			continue
		}
		if got := epFields(t, r.body); r.status != 422 || !slices.Equal(got, tc.fields) {
			t.Errorf("%s %v: status %d, fields %v, want 422 %v", tc.query, tc.hdr, r.status, got, tc.fields)
		}
	}
}

type presFormIn struct {
	N   int    `form:"n" required:"true"`
	Opt string `form:"opt" minLength:"3"`
}

func TestPresenceForm(t *testing.T) {
	app := New(Config{})
	Post(app, "/f", func(context.Context, *presFormIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{204}, nil
	})
	srv := epServer(t, app)
	const ct = "application/x-www-form-urlencoded"
	if r := epDo(t, srv, "POST", "/f", ct, "n=0"); r.status != 204 {
		t.Errorf("n=0: %d %s", r.status, r.body)
	}
	if r := epDo(t, srv, "POST", "/f", ct, "opt=ab"); r.status != 422 || !slices.Equal(epFields(t, r.body), []string{"form.n", "form.opt"}) {
		t.Errorf("opt=ab: %d %s", r.status, r.body)
	}
}

// Two endpoints that differ only in their validation tags: tracking
// presence (the required fields, the optional checked one) costs no
// allocation.
type presAllocBody struct {
	Name  string              `json:"name" required:"true" minLength:"2"`
	Age   int                 `json:"age" required:"true" min:"0"`
	Nick  string              `json:"nick" minLength:"2"`
	Stock map[string]presItem `json:"stock"`
	Items []presItem          `json:"items"`
}

type presAllocPlain struct {
	Name  string `json:"name"`
	Age   int    `json:"age"`
	Nick  string `json:"nick"`
	Stock map[string]struct {
		Qty  int    `json:"qty"`
		Note string `json:"note"`
	} `json:"stock"`
	Items []struct {
		Qty  int    `json:"qty"`
		Note string `json:"note"`
	} `json:"items"`
}

func TestPresenceAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	measure := func(t *testing.T, app *App[Ctx], body string) float64 {
		t.Helper()
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(context.Background())
		w := &nopWriter{h: http.Header{}}
		rd := strings.NewReader(body)
		r := httptest.NewRequest("POST", "/a", nil)
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		r.Body = readCloser{rd}
		app.ServeHTTP(rec, r)
		if rec.Code != 204 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return testing.AllocsPerRun(200, func() {
			rd.Reset(body)
			r.Body = readCloser{rd}
			app.ServeHTTP(w, r)
		})
	}
	type out struct{ Status int }
	res := &out{Status: 204}
	for _, body := range []string{`{"name":"Ada","age":0}`, `{"name":"Ada","age":36,"nick":"ad","x":{"y":[1,2]}}`,
		`{"name":"Ada","age":1,"stock":{"pen":{"qty":0},"ink":{"qty":2,"note":"blue"}},"items":[{"qty":0},{"qty":3}]}`} {
		checked := New(Config{})
		Post(checked, "/a", func(context.Context, *struct{ Body presAllocBody }) (*out, error) { return res, nil })
		plain := New(Config{})
		Post(plain, "/a", func(context.Context, *struct{ Body presAllocPlain }) (*out, error) { return res, nil })
		a, b := measure(t, checked, body), measure(t, plain, body)
		if a != b {
			t.Errorf("%s: %v allocs with presence tracking, %v without", body, a, b)
		}
	}
}

func BenchmarkPresenceScan(b *testing.B) {
	// The scan alone, over bodies of growing size: ns/op grows with the
	// body, not faster.
	pl, err := compilePresence(reflect.TypeFor[presBody](), "body")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000, 10000} {
		var sb strings.Builder
		sb.WriteString(`{"tenant":"t","qty":0,"active":true,"items":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`{"qty":1,"note":"abc","x":[1,{"y":2}]}`)
		}
		sb.WriteString(`]}`)
		doc := []byte(sb.String())
		var v presBody
		if err := json.Unmarshal(doc, &v); err != nil {
			b.Fatal(err)
		}
		b.Run("items="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			e := new(errs)
			for b.Loop() {
				pl.validate(doc, unsafe.Pointer(&v), e)
			}
			if len(e.list) != 0 {
				b.Fatal(e.list)
			}
		})
	}
}

// BenchmarkBodyValidation compares, on the same decoded valid bodies, the
// checks JSON bodies ran before presence (values: the decoded value alone,
// zero meaning absent, what msgpack bodies still run), what binding runs
// now (bound: the value-only pass that spares a valid body the scan, the
// scan when it cannot decide) and the scan alone (scan). They run in
// alternating rounds and the medians are reported, so that load on a
// shared machine hits them alike.
func BenchmarkBodyValidation(b *testing.B) {
	run := func(b *testing.B, t reflect.Type, doc string) {
		v := reflect.New(t)
		if err := json.Unmarshal([]byte(doc), v.Interface()); err != nil {
			b.Fatal(err)
		}
		values, err := compileValidator(t, "body")
		if err != nil {
			b.Fatal(err)
		}
		scan, err := compilePresence(t, "body")
		if err != nil {
			b.Fatal(err)
		}
		raw, p := []byte(doc), v.UnsafePointer()
		e := new(errs)
		const round = 500
		timeRound := func(f func()) float64 {
			start := time.Now()
			for range round {
				f()
			}
			return float64(time.Since(start).Nanoseconds()) / round
		}
		byValue := func() { values(p, e) }
		byScan := func() { scan.validate(raw, p, e) }
		bound := func() {
			if !scan.fast(p, e) {
				scan.validate(raw, p, e)
			}
		}
		var vs, bs, ss []float64
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			if n%round == 0 {
				if len(vs)%2 == 0 {
					vs, bs, ss = append(vs, timeRound(byValue)), append(bs, timeRound(bound)), append(ss, timeRound(byScan))
				} else {
					ss, bs, vs = append(ss, timeRound(byScan)), append(bs, timeRound(bound)), append(vs, timeRound(byValue))
				}
			}
			n++
		}
		if len(e.list) != 0 {
			b.Fatalf("%s fails: %v", doc, e.list)
		}
		median := func(v []float64) float64 {
			slices.Sort(v)
			return v[len(v)/2]
		}
		b.ReportMetric(median(vs), "values-ns/op")
		b.ReportMetric(median(bs), "bound-ns/op")
		b.ReportMetric(median(ss), "scan-ns/op")
	}
	b.Run("endpoint", func(b *testing.B) { run(b, reflect.TypeFor[benchBody](), benchJSON) })
	b.Run("items", func(b *testing.B) {
		run(b, reflect.TypeFor[presAllocBody](), `{"name":"Ada","age":1,"nick":"ad","stock":{"pen":{"qty":1,"note":"abc"},"ink":{"qty":2,"note":"blue"}},"items":[{"qty":1,"note":"abc"},{"qty":3,"note":"abc"}]}`)
	})
}

// FuzzPresence holds the scan to what encoding/json decoded: it never
// panics on a document the decoder accepted; a required top-level field is
// reported missing exactly when no key matching it (as encoding/json
// matches) holds a value other than null; and when the value alone passes
// (fast), the scan finds nothing either (in documents without repeated
// keys, whose first value the scan judges).
func FuzzPresence(f *testing.F) {
	for _, s := range []string{
		`{"tenant":"t","qty":0,"active":false}`,
		`{"QTY":1,"items":[{"qty":0},null,{}],"stock":{"a":{"qty":1},"":{},"\u00e9":null}}`,
		`{"q\u0074y":null,"pair":[{},{},{}],"ptrs":[null],"addr":{"city":"x"},"home":null}`,
		`{"qty":1,"qty":2,"x":[[[{"qty":"}"}]]],"flag":1}`,
		`null`, `[]`, `"s"`, `{"stock":{"k":{"qty":"x"}}}`,
	} {
		f.Add([]byte(s))
	}
	pl, err := compilePresence(reflect.TypeFor[presBody](), "body")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v presBody
		if err := json.Unmarshal(doc, &v); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return // not a document a body would be validated from
			}
		}
		var e errs
		pl.validate(doc, unsafe.Pointer(&v), &e)
		var fe errs
		if pl.fast(unsafe.Pointer(&v), &fe) && len(e.list) > 0 && !repeatsKeys(doc) {
			t.Errorf("%s: the value passes alone, the scan finds %v", doc, e.list)
		}
		if len(fe.list) != 0 {
			t.Errorf("fast left failures behind: %v", fe.list)
		}
		var top map[string]any
		if json.Unmarshal(doc, &top) != nil || top == nil {
			return
		}
		keys, sent := 0, false
		for k, x := range top {
			if strings.EqualFold(k, "qty") {
				keys++
				sent = x != nil
			}
		}
		if keys > 1 {
			return // duplicates through case folding: reported as such
		}
		missing := slices.ContainsFunc(e.list, func(fe FieldError) bool {
			return fe.Location == "body.qty" && fe.Message == "is required"
		})
		if missing == sent {
			t.Errorf("%s: qty sent %v, reported missing %v (%v)", doc, sent, missing, e.list)
		}
	})
}

type benchPlainIn struct {
	ID    int `path:"id"`
	Limit int `query:"limit"`
	Body  struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
}

// BenchmarkEndpointValidation serves BenchmarkEndpoint's request through
// its endpoint and through the same endpoint without validation tags, in
// alternating rounds, and reports the medians (checked-ns/op, plain-ns/op,
// delta-ns/op): what validation, presence included, costs per request.
func BenchmarkEndpointValidation(b *testing.B) {
	checked := New(Config{})
	Post(checked, "/users/{id}", benchHandler)
	plain := New(Config{})
	Post(plain, "/users/{id}", func(_ context.Context, in *benchPlainIn) (*benchOut, error) {
		out := &benchOut{}
		out.Body.ID, out.Body.Limit, out.Body.Name, out.Body.Age = in.ID, in.Limit, in.Body.Name, in.Body.Age
		return out, nil
	})
	for _, app := range []*App[Ctx]{checked, plain} {
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer app.Stop(context.Background())
	}
	w := &nopWriter{h: http.Header{}}
	body := strings.NewReader(benchJSON)
	r := httptest.NewRequest("POST", "/users/42?limit=10", body)
	r.Header.Set("Content-Type", "application/json")
	const round = 200
	timeRound := func(app *App[Ctx]) float64 {
		start := time.Now()
		for range round {
			body.Reset(benchJSON)
			r.Body = readCloser{body}
			app.ServeHTTP(w, r)
		}
		return float64(time.Since(start).Nanoseconds()) / round
	}
	var cs, ps, ds []float64
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if n%round == 0 {
			var c, p float64
			if len(cs)%2 == 0 {
				c, p = timeRound(checked), timeRound(plain)
			} else {
				p, c = timeRound(plain), timeRound(checked)
			}
			cs, ps, ds = append(cs, c), append(ps, p), append(ds, c-p)
		}
		n++
	}
	median := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(median(cs), "checked-ns/op")
	b.ReportMetric(median(ps), "plain-ns/op")
	b.ReportMetric(median(ds), "delta-ns/op")
}

// repeatsKeys reports whether an object of the JSON document doc has two
// keys that encoding/json would match to one field (equal under case
// folding).
func repeatsKeys(doc []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var objs [][]string // keys seen, per open object
	inObj := []bool{}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				objs, inObj = append(objs, nil), append(inObj, true)
				expectKey = true
				continue
			case '[':
				inObj = append(inObj, false)
			case '}', ']':
				if tok == '}' {
					objs = objs[:len(objs)-1]
				}
				inObj = inObj[:len(inObj)-1]
			}
		case string:
			if expectKey {
				keys := objs[len(objs)-1]
				for _, k := range keys {
					if strings.EqualFold(k, tok) {
						return true
					}
				}
				objs[len(objs)-1] = append(keys, tok)
				expectKey = false
				continue
			}
		}
		expectKey = len(inObj) > 0 && inObj[len(inObj)-1] // a value ended: a key may follow
	}
}
