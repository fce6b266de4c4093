package msgpack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
	lib "github.com/vmihailenco/msgpack/v5"
)

// msgpack bodies follow the rules of JSON ones: json tag names, unknown
// fields, omitempty, 422 for values of the wrong type, 400 for anything that
// is not exactly one msgpack value. Request bodies are written with
// vmihailenco/msgpack's defaults (maps, as any client would send them).

type mpItem struct {
	Name string   `json:"name" required:"true" minLength:"2"`
	Qty  int8     `json:"qty" min:"1"`
	Note string   `json:"note,omitempty"`
	Data []byte   `json:"data,omitempty"`
	Tags []string `json:"tags,omitempty" maxLength:"3"`
}

type mpForbidIn struct {
	Body mpItem `unknown:"forbid"`
}

type mpAllowIn struct {
	Body mpItem
}

type mpOut struct {
	Status int `default:"201"`
	Body   mpItem
}

func mpEcho[In any](body func(*In) mpItem) graft.Handler[In, mpOut] {
	return func(_ context.Context, in *In) (*mpOut, error) { return &mpOut{Body: body(in)}, nil }
}

func mpApp(cfg graft.Config) *graft.App[graft.Ctx] {
	app := withMsgpack(graft.New(cfg))
	graft.Post(app, "/forbid", mpEcho(func(in *mpForbidIn) mpItem { return in.Body }))
	graft.Post(app, "/allow", mpEcho(func(in *mpAllowIn) mpItem { return in.Body }))
	return app
}

func mpMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := lib.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mpUnmarshal decodes with json tag names, as a client sharing the types
// would.
func mpUnmarshal(b []byte, v any) error {
	d := lib.NewDecoder(bytes.NewReader(b))
	d.SetCustomStructTag("json")
	return d.Decode(v)
}

// mpPost sends body as msgpack over the server's keep-alive connection and
// returns status, Content-Type and response body.
func mpPost(t testing.TB, srv *httptest.Server, path string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/msgpack")
	req.Header.Set("Accept", "application/msgpack")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

func TestMsgpackBodyRules(t *testing.T) {
	srv := server(t, mpApp(graft.Config{}))
	strict := server(t, mpApp(graft.Config{DisallowUnknownFields: true}))
	valid := map[string]any{"name": "pen", "qty": 3}
	withColour := map[string]any{"name": "pen", "qty": 3, "colour": "red"}
	hugeTags := append(mpMarshal(t, map[string]any{"name": "pen", "qty": 3})[:0:0], 0x83)
	hugeTags = append(hugeTags, mpMarshal(t, "name")...)
	hugeTags = append(hugeTags, mpMarshal(t, "pen")...)
	hugeTags = append(hugeTags, mpMarshal(t, "qty")...)
	hugeTags = append(hugeTags, 3)
	hugeTags = append(hugeTags, mpMarshal(t, "tags")...)
	hugeTags = append(hugeTags, 0xdd, 0xff, 0xff, 0xff, 0xff) // 4 G items, none sent
	for _, tc := range []struct {
		name   string
		srv    *httptest.Server
		path   string
		body   []byte
		status int
		want   []string // 422: the locations; 400: a part of the detail
	}{
		{"valid", srv, "/forbid", mpMarshal(t, valid), 201, nil},
		{"unknown forbidden by the field", srv, "/forbid", mpMarshal(t, withColour), 422, []string{"body.colour"}},
		{"unknown allowed", srv, "/allow", mpMarshal(t, withColour), 201, nil},
		{"unknown forbidden by the app", strict, "/allow", mpMarshal(t, withColour), 422, []string{"body.colour"}},
		{"go field names are not json names", srv, "/forbid", mpMarshal(t, map[string]any{"Name": "pen", "Qty": 3}), 422, []string{"body.Name", "body.Qty"}},
		{"wrong types, all of them", srv, "/allow", mpMarshal(t, map[string]any{"name": 5, "qty": "3", "tags": []any{"a", true}, "data": 1.5}), 422,
			[]string{"body.data", "body.name", "body.qty", "body.tags[1]"}},
		{"a key given twice", srv, "/allow", []byte("\x83\xa4name\xa3pen\xa3qty\x03\xa4name\xa3ink"), 422, []string{"body.name"}},
		{"out of range", srv, "/allow", mpMarshal(t, map[string]any{"name": "pen", "qty": 300}), 422, []string{"body.qty"}},
		{"not an object", srv, "/allow", mpMarshal(t, []any{"pen", 3}), 422, []string{"body"}},
		{"validation after decoding", srv, "/allow", mpMarshal(t, map[string]any{"name": "p", "qty": 0, "tags": []string{"a", "b", "c", "d"}}), 422,
			[]string{"body.name", "body.qty", "body.tags"}},
		{"malformed", srv, "/allow", []byte{0xc1}, 400, []string{"byte 0xc1 is never used"}},
		{"advisory GO-2026-4513", srv, "/allow", []byte{0xd6, 0xff, 0, 0}, 400, []string{"unexpected end"}},
		{"truncated", srv, "/allow", mpMarshal(t, valid)[:7], 400, []string{"unexpected end"}},
		{"data after the value", srv, "/allow", append(mpMarshal(t, valid), 0x93, 1, 2, 3), 400, []string{"4 bytes after the value"}},
		{"two values", srv, "/allow", append(mpMarshal(t, valid), mpMarshal(t, valid)...), 400, []string{"after the value"}},
		{"length past the body", srv, "/allow", hugeTags, 400, []string{"array of 4294967295 items in 0 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ct, b := mpPost(t, tc.srv, tc.path, tc.body)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, b)
			}
			switch st {
			case 201:
				var m map[string]any
				if err := lib.Unmarshal(b, &m); err != nil || ct != msgpack.MediaType {
					t.Fatalf("response %q (%s): %v", b, ct, err)
				}
				// json names; note, data and tags are empty: omitempty
				if !reflect.DeepEqual(m, map[string]any{"name": "pen", "qty": int8(3)}) {
					t.Fatalf("response decodes to %v", m)
				}
			case 422:
				if got := fields(t, string(b)); !slices.Equal(got, tc.want) {
					t.Fatalf("locations %v, want %v: %s", got, tc.want, b)
				}
			default:
				if ct != "application/problem+json" || !strings.Contains(string(b), tc.want[0]) {
					t.Fatalf("%s %s, want a problem saying %q", ct, b, tc.want[0])
				}
			}
		})
	}
}

func TestMsgpackWrongTypeMessage(t *testing.T) {
	srv := server(t, mpApp(graft.Config{}))
	st, _, b := mpPost(t, srv, "/allow", mpMarshal(t, map[string]any{"name": "pen", "qty": "three"}))
	if st != 422 || !strings.Contains(string(b), `{"location":"body.qty","message":"must be an integer","value":"string"}`) {
		t.Fatalf("%d %s", st, b)
	}
}

// TestMsgpackPooledIsolation interleaves hostile and valid bodies on one
// endpoint with one processor, so each request reuses the pooled buffer
// and decoder the one before it left: every valid request must still get
// its own answer.
func TestMsgpackPooledIsolation(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	srv := server(t, mpApp(graft.Config{}))
	hostile := [][]byte{
		append(mpMarshal(t, map[string]any{"name": "evil", "qty": 1}), 0x81, 0xa1, 'x', 0x01), // trailing
		mpMarshal(t, map[string]any{"name": "truncated", "qty": 1})[:9],
		mpMarshal(t, map[string]any{"name": []any{1}, "qty": "x"}), // wrong types
		{0xd6, 0xff, 0, 0}, // GO-2026-4513
		{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xdb, 0xff, 0xff, 0xff, 0xf0}, // a string longer than the body
	}
	hostileStatus := []int{400, 400, 422, 400, 400}
	for round := range 40 {
		h := round % len(hostile)
		if st, _, b := mpPost(t, srv, "/allow", hostile[h]); st != hostileStatus[h] {
			t.Fatalf("round %d: hostile body %d answered %d, want %d: %s", round, h, st, hostileStatus[h], b)
		}
		want := mpItem{Name: "item-" + strconv.Itoa(round), Qty: int8(round%100 + 1), Data: []byte{byte(round)}}
		st, _, b := mpPost(t, srv, "/allow", mpMarshal(t, map[string]any{"name": want.Name, "qty": want.Qty, "data": want.Data}))
		var got mpItem
		if err := mpUnmarshal(b, &got); err != nil {
			t.Fatalf("round %d: %d %q: %v", round, st, b, err)
		}
		got = mpItem{Name: got.Name, Qty: got.Qty, Data: got.Data}
		if st != 201 || !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d after hostile body %d: %d %+v, want %+v", round, h, st, got, want)
		}
	}
}

// TestMsgpackNoAliasing keeps the strings and bytes one request decoded and
// checks that later requests, served from the same pooled buffer, leave
// them as they were.
func TestMsgpackNoAliasing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var mu sync.Mutex
	var kept []mpItem
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/keep", func(_ context.Context, in *mpAllowIn) (*mpOut, error) {
		mu.Lock()
		kept = append(kept, in.Body)
		mu.Unlock()
		return &mpOut{}, nil
	})
	srv := server(t, app)
	item := func(i int) map[string]any {
		c := byte('a' + i)
		return map[string]any{"name": strings.Repeat(string(c), 40), "qty": 1, "data": bytes.Repeat([]byte{c}, 40), "tags": []string{strings.Repeat(string(c), 8)}}
	}
	for i := range 10 {
		if st, _, b := mpPost(t, srv, "/keep", mpMarshal(t, item(i))); st != 201 {
			t.Fatalf("request %d: %d %s", i, st, b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, it := range kept {
		c := byte('a' + i)
		if it.Name != strings.Repeat(string(c), 40) || !bytes.Equal(it.Data, bytes.Repeat([]byte{c}, 40)) || it.Tags[0] != strings.Repeat(string(c), 8) {
			t.Fatalf("request %d's values changed after later requests: %q %q %q", i, it.Name, it.Data, it.Tags)
		}
	}
}

// FuzzMsgpackBody posts any bytes as a msgpack body: they bind (and the
// value, encoded as the answer and posted again, binds to the same value)
// or they are answered 4xx; never a 5xx, never a panic.
func FuzzMsgpackBody(f *testing.F) {
	type item struct {
		ID    int64 `json:"id"`
		Ok    bool  `json:"ok"`
		Score uint8 `json:"score"`
	}
	type body struct {
		Name  string         `json:"name" maxLength:"64"`
		Qty   int16          `json:"qty" min:"-5"`
		Price float64        `json:"price"`
		Ratio float32        `json:"ratio"`
		Count uint32         `json:"count"`
		Data  []byte         `json:"data"`
		Key   [4]byte        `json:"key"`
		Tags  []string       `json:"tags" maxLength:"8"`
		Items []item         `json:"items"`
		Meta  map[string]int `json:"meta"`
		Ptr   *item          `json:"ptr"`
	}
	type in struct {
		Body body `unknown:"forbid"`
	}
	type out struct{ Body body }
	var last body
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/fuzz", func(_ context.Context, in *in) (*out, error) {
		last = in.Body
		return &out{Body: in.Body}, nil
	})
	post := func(b []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/fuzz", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/msgpack")
		req.Header.Set("Accept", "application/msgpack")
		app.ServeHTTP(rec, req)
		return rec
	}
	for _, seed := range []any{
		map[string]any{"name": "pen", "qty": 3, "price": 1.5, "ratio": float32(0.5), "count": 7, "data": []byte{1, 2}, "key": "abcd",
			"tags": []string{"a"}, "items": []any{map[string]any{"id": -1, "ok": true, "score": 255}}, "meta": map[string]int{"a": 1}, "ptr": map[string]any{"id": 2}},
		map[string]any{"name": 1, "qty": 40000, "items": []any{"x"}, "meta": map[int]int{1: 2}},
		map[string]any{"colour": "red"},
		[]any{nil, true},
	} {
		f.Add(mpMarshal(f, seed))
	}
	f.Add([]byte{0xd6, 0xff, 0, 0})
	f.Add([]byte{0x81, 0xa4, 't', 'a', 'g', 's', 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec := post(b)
		switch {
		case rec.Code == 200:
			first := last
			again := post(rec.Body.Bytes())
			if again.Code != 200 || !mpSameValue(last, first) {
				t.Fatalf("%x bound to %#v; its encoding %x answered %d and bound to %#v", b, first, rec.Body.Bytes(), again.Code, last)
			}
		case rec.Code >= 400 && rec.Code < 500:
		default:
			t.Fatalf("%x: %d %s", b, rec.Code, rec.Body)
		}
	})
}

// mpSameValue compares decoded values, NaN equal to itself.
func mpSameValue(a, b any) bool {
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// TestMsgpackManyWrongValues sends 200 000 values of the wrong type: the
// answer lists 100 of them and says the list was cut.
func TestMsgpackManyWrongValues(t *testing.T) {
	srv := server(t, mpApp(graft.Config{BodyLimit: 4 << 20}))
	tags := make([]int, 200_000)
	st, _, b := mpPost(t, srv, "/allow", mpMarshal(t, map[string]any{"name": "pen", "qty": 1, "tags": tags}))
	var p graft.Problem
	if err := json.Unmarshal(b, &p); err != nil || st != 422 || len(p.Errors) != 100 || !p.ErrorsTruncated || p.Errors[99].Location != "body.tags[99]" {
		t.Fatalf("%d, %d errors, truncated %v: %.300s", st, len(p.Errors), p.ErrorsTruncated, b)
	}
}

// TestMsgpackEndpointAllocs pins the cost of a msgpack request to that of
// the same request in JSON: the values the body holds (one string here)
// and the endpoint's own; the check, the pooled decoder and encoder and the
// body buffer add nothing.
func TestMsgpackEndpointAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops puts under the race detector")
	}
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/users/{id}", benchHandler)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	allocs := func(ct, in string, check func([]byte) bool) float64 {
		body := strings.NewReader(in)
		r := httptest.NewRequest("POST", "/users/42?limit=10", body)
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Accept", ct)
		rec := httptest.NewRecorder()
		r.Body = readCloser{body}
		app.ServeHTTP(rec, r)
		if rec.Code != 200 || !check(rec.Body.Bytes()) {
			t.Fatalf("%s: %d %q", ct, rec.Code, rec.Body)
		}
		w := &nopWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			body.Reset(in)
			r.Body = readCloser{body}
			app.ServeHTTP(w, r)
		})
	}
	mp := allocs("application/msgpack", string(mpMarshal(t, map[string]any{"name": "Ada Lovelace", "age": 36})), func(b []byte) bool {
		var got map[string]any
		return lib.Unmarshal(b, &got) == nil && got["name"] == "Ada Lovelace"
	})
	js := allocs("application/json", benchJSON, func(b []byte) bool { return string(b) == benchWant })
	if mp != js {
		t.Fatalf("a msgpack request allocates %v times, the same request in JSON %v", mp, js)
	}
}

// TestMsgpackSetupMistake: a Body type the msgpack check cannot follow
// fails start-up (the codec compiles it then, for the scopes that have
// it), naming the endpoint and the field.
func TestMsgpackSetupMistake(t *testing.T) {
	type bad struct {
		N int `json:"n" msgpack:",intern"`
	}
	type in struct{ Body bad }
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/intern", func(context.Context, *in) (*struct{}, error) { return nil, nil })
	err := app.Start(context.Background())
	defer app.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/intern") || !strings.Contains(err.Error(), `field msgpack_test.bad.N: the msgpack option "intern" applies to strings and interfaces`) {
		t.Fatalf("start-up error %v", err)
	}
	// Without the codec in its scope the type is only JSON: no error.
	plain := graft.New(graft.Config{})
	graft.Post(plain, "/intern", func(context.Context, *in) (*struct{}, error) { return nil, nil })
	if err := plain.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	plain.Stop(context.Background())
}

// TestMsgpackNoReadPastBody is GO-2026-4740's shape: a body that declares
// a string longer than itself, sent after a longer body whose bytes are
// still in the pooled buffer's spare capacity, must not be completed
// from them.
func TestMsgpackNoReadPastBody(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	srv := server(t, mpApp(graft.Config{}))
	long := strings.Repeat("x", 1000)
	prev := append([]byte("\x82\xa3qty\x01\xa4name\xda\x03\xe8"), long...) // name last
	if st, _, b := mpPost(t, srv, "/allow", prev); st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	// The same bytes up to the string's header: its 1000 bytes are what
	// the pooled buffer holds past this body's end.
	cut := prev[:len(prev)-len(long)]
	st, _, b := mpPost(t, srv, "/allow", cut)
	if st != 400 || !strings.Contains(string(b), "unexpected end of the body") {
		t.Fatalf("%d %s", st, b)
	}
}

// withMsgpack registers the msgpack extension on app.
func withMsgpack[C any](app *graft.App[C]) *graft.App[C] {
	app.Register(msgpack.Extension())
	return app
}

// TestMsgpackOnlyWhereRegistered: typed endpoints offer msgpack only in a
// scope where the codec is registered, answering as Ctx.Render does
// elsewhere (406), and read msgpack bodies only there (415 elsewhere);
// before, a typed endpoint answered msgpack where Render answered 406.
func TestMsgpackOnlyWhereRegistered(t *testing.T) {
	type item struct {
		Name string `json:"name"`
	}
	type in struct{ Body item }
	type out struct{ Body item }
	h := func(_ context.Context, in *in) (*out, error) { return &out{Body: in.Body}, nil }
	app2 := graft.New(graft.Config{})
	g := app2.Group("/mp")
	g.Register(msgpack.Extension())
	graft.Post(app2, "/plain", h)
	plainRI := graft.Post(g, "/x", h)
	outRI := graft.Post(app2, "/y", h)
	app2.GET("/render", func(c *graft.Ctx) error { return c.Render(200, item{Name: "r"}) })
	srv := server(t, app2)
	body := string(mpMarshal(t, map[string]any{"name": "ann"}))
	for _, tc := range []struct {
		path, ctype, body, accept string
		status                    int
		media                     string
	}{
		{"/plain", "application/json", `{"name":"ann"}`, "application/msgpack", 406, "application/problem+json"},
		{"/render", "", "", "application/msgpack", 406, "application/problem+json"},
		{"/plain", "application/json", `{"name":"ann"}`, "application/msgpack, application/json;q=0.5", 200, "application/json"},
		{"/plain", "application/msgpack", body, "", 415, "application/problem+json"},
		{"/mp/x", "application/msgpack", body, "application/msgpack", 200, msgpack.MediaType},
		{"/mp/x", "application/json", `{"name":"ann"}`, "", 200, "application/json"},
	} {
		method := "POST"
		if tc.path == "/render" {
			method = "GET"
		}
		r := do(t, srv, method, tc.path, tc.ctype, tc.body, "Accept", tc.accept)
		if r.status != tc.status || !strings.HasPrefix(r.header.Get("Content-Type"), tc.media) {
			t.Errorf("%s %s (Content-Type %q, Accept %q): %d %s %q", method, tc.path, tc.ctype, tc.accept, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if mts := outRI.Signature().Body.MediaTypes; slices.Contains(mts, msgpack.MediaType) {
		t.Errorf("signature outside the msgpack scope lists %v", mts)
	}
	if mts := plainRI.Signature().Body.MediaTypes; !slices.Contains(mts, msgpack.MediaType) {
		t.Errorf("signature inside the msgpack scope lists %v", mts)
	}
}
