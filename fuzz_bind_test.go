package graft

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTypedBind sends any request (method, target, header lines, content
// type, body) to typed endpoints that bind every source (path, query,
// header, cookie, JSON body; path, query, urlencoded and multipart forms
// with a file) and checks:
//
//   - the answer is a 2xx from the endpoint or a 4xx application/problem+json
//     whose body is a JSON object with type, title and a status equal to
//     the answer's (never a 5xx, never a panic); the one other answer is
//     the router's redirect of an unclean path (/a/./b) to its clean form;
//   - a 2xx echoes values within the fields' constraints, and a bound JSON
//     body is exactly what a strict encoding/json decode (one value,
//     DisallowUnknownFields, as the endpoint's unknown:"forbid" asks) gives
//     for the same bytes: the model;
//   - a bound urlencoded form holds what url.ParseQuery reads from it;
//   - no request changes the next: after each input, known-good requests on
//     the same app (the same pooled Ctx, input state, decoder and buffers)
//     answer byte for byte what they answer on a fresh app.
//
// The app runs as the http.Handler it is, with an httptest.ResponseRecorder
// for speed; TestTypedBindSeedsOverTCP sends the seed corpus over a real
// listener.
func FuzzTypedBind(f *testing.F) {
	for _, s := range fzSeeds {
		f.Add(s.method, s.target, s.header, s.ctype, []byte(s.body))
	}
	fresh := fzNewApp(f)
	want := fzGoodAnswers(f, fresh)
	app := fzNewApp(f)
	f.Fuzz(func(t *testing.T, method, target, header, ctype string, body []byte) {
		req := fzRequest(method, target, header, ctype, body)
		if req == nil {
			t.Skip("not a request line net/http would route")
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fzCheck(t, req, body, rec.Code, rec.Header(), rec.Body.Bytes())
		for i, g := range fzGood {
			if got := fzServe(app, g.request()); got != want[i] {
				t.Fatalf("the known-good request %s %s after this input answered\n%s\nwhere a fresh app answers\n%s", g.method, g.target, got, want[i])
			}
		}
	})
}

// TestTypedBindSeedsOverTCP sends the seeds and the checked-in corpus of
// FuzzTypedBind to the app over a real TCP listener, with the same checks,
// each followed by the known-good requests. A request the client refuses to
// send (a method or header net/http cannot write) is counted, not sent.
func TestTypedBindSeedsOverTCP(t *testing.T) {
	inputs := slices.Clone(fzSeeds)
	inputs = append(inputs, fzCorpus(t)...)
	fresh := fzNewApp(t)
	want := fzGoodAnswers(t, fresh)
	srv := epServer(t, fzNewApp(t))
	client := srv.Client()
	sent := 0
	for _, in := range inputs {
		req := fzRequest(in.method, in.target, in.header, in.ctype, []byte(in.body))
		if req == nil {
			continue
		}
		out, err := http.NewRequest(req.Method, srv.URL+req.URL.RequestURI(), bytes.NewReader([]byte(in.body)))
		if err != nil {
			continue
		}
		out.Header = req.Header
		res, err := client.Do(out)
		if err != nil {
			if strings.Contains(err.Error(), "invalid") {
				continue // net/http will not write it
			}
			t.Fatalf("%q %q: %v", in.method, in.target, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%q %q: reading the answer: %v", in.method, in.target, err)
		}
		sent++
		res.Header.Del("Date")
		res.Header.Del("Content-Length")
		fzCheck(t, req, []byte(in.body), res.StatusCode, res.Header, b)
		for i, g := range fzGood {
			got := epDo(t, srv, g.method, g.target, g.ctype, g.body, g.hdr...)
			got.header.Del("Date")
			got.header.Del("Content-Length")
			if s := fzAnswer(got.status, got.header, []byte(got.body)); s != want[i] {
				t.Fatalf("the known-good request %s %s after %q %q answered\n%s\nwhere a fresh app answers\n%s", g.method, g.target, in.method, in.target, s, want[i])
			}
		}
	}
	if sent < len(inputs)*3/4 {
		t.Fatalf("only %d of %d inputs could be sent over TCP", sent, len(inputs))
	}
}

// fzBody is the JSON body: every JSON kind, nested, with constraints.
type fzBody struct {
	Name   string         `json:"name" maxLength:"16"`
	Qty    int            `json:"qty" min:"0" max:"1000"`
	Price  float64        `json:"price"`
	OK     bool           `json:"ok"`
	Kind   string         `json:"kind" enum:"a,b,c"`
	Tags   []string       `json:"tags" maxLength:"4"`
	Labels map[string]int `json:"labels"`
	Inner  *fzInner       `json:"inner"`
	Small  int8           `json:"small"`
	Any    any            `json:"any"`
}

type fzInner struct {
	Code  uint16   `json:"code" required:"true"`
	Notes []string `json:"notes"`
}

type fzJSONIn struct {
	ID    int      `path:"id" min:"1"`
	Name  string   `path:"name" maxLength:"8"`
	Limit int      `query:"limit" default:"10" max:"100"`
	IDs   []int    `query:"ids"`
	Q     *string  `query:"q"`
	Token string   `header:"X-Token" pattern:"^[a-z0-9]*$"`
	Tags  []string `header:"X-Tags"`
	Sid   string   `cookie:"sid"`
	Body  fzBody   `unknown:"forbid"`
}

// fzParams is what the endpoints echo of their params.
type fzParams struct {
	ID    int      `json:"id"`
	Name  string   `json:"name,omitempty"`
	Limit int      `json:"limit,omitempty"`
	IDs   []int    `json:"ids,omitempty"`
	Q     *string  `json:"q,omitempty"`
	Token string   `json:"token,omitempty"`
	Tags  []string `json:"tags,omitempty"`
	Sid   string   `json:"sid,omitempty"`
}

type fzJSONOut struct {
	Body struct {
		Params fzParams `json:"params"`
		Body   fzBody   `json:"body"`
	}
}

type fzFormIn struct {
	ID   int                   `path:"id"`
	Note string                `form:"note" maxLength:"32"`
	N    int                   `form:"n" min:"0"`
	Tags []string              `form:"tag"`
	File *multipart.FileHeader `form:"file"`
	Sid  string                `cookie:"sid"`
}

type fzURLIn struct {
	ID   int      `path:"id"`
	Note string   `form:"note" maxLength:"32"`
	N    int      `form:"n" min:"0"`
	Tags []string `form:"tag"`
}

type fzFormOut struct {
	Body struct {
		ID   int      `json:"id"`
		Note string   `json:"note"`
		N    int      `json:"n"`
		Tags []string `json:"tags"`
		File string   `json:"file,omitempty"`
		Sid  string   `json:"sid,omitempty"`
	}
}

// fzLimit is the apps' body limit: small, so that inputs reach it.
const fzLimit = 4096

func fzNewApp(t testing.TB) *App[Ctx] {
	t.Helper()
	app := New(Config{BodyLimit: fzLimit, Logger: slog.New(slog.DiscardHandler)})
	Post(app, "/j/{id}/{name}", func(_ context.Context, in *fzJSONIn) (*fzJSONOut, error) {
		o := &fzJSONOut{}
		o.Body.Params = fzParams{ID: in.ID, Name: in.Name, Limit: in.Limit, IDs: in.IDs, Q: in.Q, Token: in.Token, Tags: in.Tags, Sid: in.Sid}
		o.Body.Body = in.Body
		return o, nil
	})
	limits := WithFormLimits(FormLimits{MaxFiles: 2, MaxFields: 8, MaxPartSize: 256, MaxMemory: 1024})
	Post(app, "/f/{id}", func(_ context.Context, in *fzFormIn) (*fzFormOut, error) {
		o := &fzFormOut{}
		o.Body.ID, o.Body.Note, o.Body.N, o.Body.Tags, o.Body.Sid = in.ID, in.Note, in.N, in.Tags, in.Sid
		if in.File != nil {
			fh, err := in.File.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(fh)
			fh.Close()
			if err != nil {
				return nil, err
			}
			o.Body.File = string(b)
		}
		return o, nil
	}, limits)
	Post(app, "/u/{id}", func(_ context.Context, in *fzURLIn) (*fzFormOut, error) {
		o := &fzFormOut{}
		o.Body.ID, o.Body.Note, o.Body.N, o.Body.Tags = in.ID, in.Note, in.N, in.Tags
		return o, nil
	}, limits)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return app
}

// fzInput is one fuzz input: a seed, or a file of the checked-in corpus.
type fzInput struct {
	method, target, header, ctype, body string
}

const fzGoodJSON = `{"name":"pen","qty":3,"price":1.5,"ok":true,"kind":"b","tags":["x","y"],"labels":{"a":1},"inner":{"code":7,"notes":["n"]},"small":-3,"any":[1,"two",{"three":null}]}`

var fzMultipart = "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n" +
	"--B\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n4\r\n" +
	"--B\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nt1\r\n" +
	"--B\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nt2\r\n" +
	"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n" +
	"--B--\r\n"

var fzSeeds = []fzInput{
	{"POST", "/j/5/bob?limit=7&ids=1&ids=2&q=hi", "X-Token: abc1\nX-Tags: a, b\nCookie: sid=s1", "application/json", fzGoodJSON},
	{"POST", "/j/5/bob", "", "", `{}`},
	{"POST", "/j/0/bob", "", "application/json", `{}`},
	{"POST", "/j/x/bob", "", "application/json", `{}`},
	{"POST", "/j/5/waytoolongname", "X-Token: UPPER", "application/json", `{"qty":-1,"kind":"z","tags":["1","2","3","4","5"]}`},
	{"POST", "/j/5/b%2Fc?limit=1000&ids=x", "", "application/json", `{"colour":"red"}`},
	{"POST", "/j/5/bob", "", "application/json", `{"name":"a","name":"b"}`},
	{"POST", "/j/5/bob", "", "application/json", `{"Name":"a","NAME":"b"}`},
	{"POST", "/j/5/bob", "", "application/json", `{"inner":{}}`},
	{"POST", "/j/5/bob", "", "application/json", `{"inner":{"code":70000}}`},
	{"POST", "/j/5/bob", "", "application/json", `{"small":128}`},
	{"POST", "/j/5/bob", "", "application/json", `{"qty":1}]`},
	{"POST", "/j/5/bob", "", "application/json", `{"qty":1} `},
	{"POST", "/j/5/bob", "", "application/json", `{"qty":`},
	{"POST", "/j/5/bob", "", "application/json", `[1,2]`},
	{"POST", "/j/5/bob", "", "application/json", `null`},
	{"POST", "/j/5/bob", "", "application/json", "\"\\ud800\""},
	{"POST", "/j/5/bob", "", "application/json", "{\"name\":\"\xff\xfe\"}"},
	{"POST", "/j/5/bob", "", "application/json", `{"name":"\u00e9t\u00e9","any":{"a":[{"b":{}}]}}`},
	{"POST", "/j/5/bob", "", "application/json", strings.Repeat(`{"any":`, 50)},
	{"POST", "/j/5/bob", "", "application/json", `{"any":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`},
	{"POST", "/j/5/bob", "", "text/plain", `{}`},
	{"POST", "/j/5/bob", "", "application/json; charset=utf-8", `{}`},
	{"POST", "/j/5/bob", "", "application/problem+json", `{}`},
	{"POST", "/j/5/bob", "", "application/;;", `{}`},
	{"POST", "/j/5/bob", "", "application/json", strings.Repeat(" ", fzLimit+1)},
	{"GET", "/j/5/bob", "", "", ""},
	{"PUT", "/j/5/bob", "", "application/json", `{}`},
	{"POST", "/nowhere", "", "", ""},
	{"POST", "/j/5/bob?%zz=1&limit=%", "", "application/json", `{}`},
	{"POST", "/j/5/bob?limit=&limit=3&q=", "Cookie: sid=a; sid=b\nCookie: other=1", "application/json", `{}`},
	{"POST", "/f/1", "", "multipart/form-data; boundary=B", fzMultipart},
	{"POST", "/f/1", "", "multipart/form-data; boundary=B", strings.ReplaceAll(fzMultipart, "--B--", "--B")},
	{"POST", "/f/1", "", "multipart/form-data", fzMultipart},
	{"POST", "/f/1", "", "multipart/form-data; boundary=B", strings.Repeat("--B\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nt\r\n", 9) + "--B--\r\n"},
	{"POST", "/f/1", "", "multipart/form-data; boundary=B", strings.Repeat("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nx\r\n", 3) + "--B--\r\n"},
	{"POST", "/f/1", "", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + strings.Repeat("n", 300) + "\r\n--B--\r\n"},
	{"POST", "/f/1", "", "application/x-www-form-urlencoded", "note=a&n=1"},
	{"POST", "/u/1", "", "application/x-www-form-urlencoded", "note=a&n=1&tag=x&tag=y"},
	{"POST", "/u/1", "", "application/x-www-form-urlencoded", "note=%zz&n=-1"},
	{"POST", "/u/1", "", "application/x-www-form-urlencoded", "n=x&note=" + strings.Repeat("é", 33)},
	{"POST", "/u/1", "", "application/x-www-form-urlencoded", strings.Repeat("tag=t&", 9)},
	{"POST", "/u/1", "", "application/json", `{"note":"a"}`},
}

// fzGoodRequest is a known-good request run after every input.
type fzGoodRequest struct {
	method, target, ctype, body string
	hdr                         []string
}

func (g fzGoodRequest) request() *http.Request {
	r := httptest.NewRequest(g.method, g.target, strings.NewReader(g.body))
	if g.ctype != "" {
		r.Header.Set("Content-Type", g.ctype)
	}
	for i := 0; i+1 < len(g.hdr); i += 2 {
		r.Header.Add(g.hdr[i], g.hdr[i+1])
	}
	return r
}

var fzGood = []fzGoodRequest{
	{"POST", "/j/9/ann?limit=5&ids=3", "application/json", `{"name":"ok","qty":2,"tags":["t"],"inner":{"code":1}}`, []string{"X-Token", "tok", "Cookie", "sid=z"}},
	{"POST", "/j/9/ann", "application/json", `{}`, nil},
	{"POST", "/f/2", "multipart/form-data; boundary=B", fzMultipart, nil},
	{"POST", "/u/3", "application/x-www-form-urlencoded", "note=fine&n=2&tag=q", nil},
}

// fzAnswer is an answer as one comparable string: status, headers, body.
func fzAnswer(status int, h http.Header, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", status)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %q\n", k, h[k])
	}
	b.Write(body)
	return b.String()
}

func fzServe(app http.Handler, r *http.Request) string {
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, r)
	return fzAnswer(rec.Code, rec.Header(), rec.Body.Bytes())
}

// fzGoodAnswers are the known-good requests' answers on app, each checked
// to be a 200.
func fzGoodAnswers(t testing.TB, app http.Handler) []string {
	t.Helper()
	var out []string
	for _, g := range fzGood {
		a := fzServe(app, g.request())
		if !strings.HasPrefix(a, "200\n") {
			t.Fatalf("known-good %s %s: %s", g.method, g.target, a)
		}
		out = append(out, a)
	}
	return out
}

// fzRequest builds the request of an input as the server would receive
// it, or nil when no server would route it (a method that is not a token,
// a target that is not a path).
func fzRequest(method, target, header, ctype string, body []byte) *http.Request {
	if method == "" || strings.ContainsFunc(method, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) }) {
		return nil
	}
	if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\x00#") {
		return nil
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	r := &http.Request{
		Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "example.com", RemoteAddr: "192.0.2.1:1234",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	r = r.WithContext(context.Background())
	sc := bufio.NewScanner(strings.NewReader(header))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\x00") {
			continue
		}
		r.Header.Add(k, strings.TrimSpace(v))
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}

var fzTokenRe = regexp.MustCompile(`^[a-z0-9]*$`)

// fzCheck holds one answer to the invariants in FuzzTypedBind's comment.
func fzCheck(t *testing.T, req *http.Request, body []byte, status int, h http.Header, got []byte) {
	t.Helper()
	switch {
	case status >= 200 && status < 300:
	case status == http.StatusPermanentRedirect || status == http.StatusMovedPermanently:
		// A path with dot segments or doubled slashes is redirected to its
		// clean form before routing (docs/architecture.md).
		loc := h.Get("Location")
		if !strings.HasPrefix(loc, "/") || loc == req.URL.RequestURI() {
			t.Fatalf("%s %s: %d to %q", req.Method, req.URL, status, loc)
		}
		return
	case status >= 400 && status < 500:
		if ct := h.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: %d with Content-Type %q, not application/problem+json: %s", req.Method, req.URL, status, ct, got)
		}
		var p map[string]any
		if err := json.Unmarshal(got, &p); err != nil {
			t.Fatalf("%s %s: %d body is not a JSON object: %v: %q", req.Method, req.URL, status, err, got)
		}
		if _, ok := p["type"].(string); !ok {
			t.Fatalf("%s %s: %d problem without a type: %s", req.Method, req.URL, status, got)
		}
		if _, ok := p["title"].(string); !ok {
			t.Fatalf("%s %s: %d problem without a title: %s", req.Method, req.URL, status, got)
		}
		if s, ok := p["status"].(float64); !ok || int(s) != status {
			t.Fatalf("%s %s: %d problem with status %v: %s", req.Method, req.URL, status, p["status"], got)
		}
		return
	default:
		t.Fatalf("%s %s (Content-Type %q, body %q): answered %d: %s", req.Method, req.URL, req.Header.Get("Content-Type"), body, status, got)
	}
	if status != 200 {
		t.Fatalf("%s %s: a typed endpoint answered %d", req.Method, req.URL, status)
	}
	switch {
	case strings.HasPrefix(req.URL.Path, "/j/"):
		fzCheckJSON(t, req, body, got)
	case strings.HasPrefix(req.URL.Path, "/u/"), strings.HasPrefix(req.URL.Path, "/f/"):
		fzCheckForm(t, req, body, got)
	default:
		t.Fatalf("%s %s: 200 from no endpoint", req.Method, req.URL)
	}
}

func fzCheckJSON(t *testing.T, req *http.Request, body, got []byte) {
	t.Helper()
	var out struct {
		Params fzParams `json:"params"`
		Body   fzBody   `json:"body"`
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("the 200 is not the endpoint's JSON: %v: %s", err, got)
	}
	// The model: a strict encoding/json decode of the same bytes.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var want fzBody
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("bound %q, which encoding/json refuses: %v", body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("bound %q, which has data after its JSON value", body)
	}
	// The echo went through encoding/json once more: compare the model's
	// value after the same round trip.
	wantRT := jsonRT(want)
	if !reflect.DeepEqual(out.Body, wantRT) {
		t.Fatalf("body %q bound\n%+v\nencoding/json decodes\n%+v", body, out.Body, wantRT)
	}
	b := out.Body
	if utf8.RuneCountInString(b.Name) > 16 || b.Qty < 0 || b.Qty > 1000 || len(b.Tags) > 4 || !slices.Contains([]string{"", "a", "b", "c"}, b.Kind) {
		t.Fatalf("body %q bound values past its constraints: %+v", body, b)
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) == nil && string(raw["kind"]) == `""` {
		t.Fatalf("body %q: an empty kind, not in the enum, bound", body)
	}
	p := out.Params
	if p.ID < 1 || utf8.RuneCountInString(p.Name) > 8 || p.Limit > 100 || !fzTokenRe.MatchString(p.Token) {
		t.Fatalf("%s: params past their constraints: %+v", req.URL, p)
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err == nil {
		q = jsonRT(q)
		if _, ok := q["limit"]; !ok && p.Limit != 10 {
			t.Fatalf("%s: no limit, bound %d, not the default 10", req.URL, p.Limit)
		}
		var ids []int
		for _, s := range q["ids"] {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: ids item %q is no integer, yet it bound", req.URL, s)
			}
			ids = append(ids, n)
		}
		if !slices.Equal(ids, p.IDs) {
			t.Fatalf("%s: ids bound %v, the query holds %v", req.URL, p.IDs, ids)
		}
		if qs, ok := q["q"]; ok != (p.Q != nil) || ok && !slices.Contains(qs, *p.Q) {
			t.Fatalf("%s: q bound %v, the query holds %q", req.URL, p.Q, qs)
		}
	}
}

func fzCheckForm(t *testing.T, req *http.Request, body, got []byte) {
	t.Helper()
	var out struct {
		ID   int      `json:"id"`
		Note string   `json:"note"`
		N    int      `json:"n"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("the 200 is not the endpoint's JSON: %v: %s", err, got)
	}
	if utf8.RuneCountInString(out.Note) > 32 || out.N < 0 || len(out.Tags) > 8 {
		t.Fatalf("form %q bound values past their constraints: %+v", body, out)
	}
	if !strings.HasPrefix(req.URL.Path, "/u/") {
		return
	}
	// The model of an urlencoded body: url.ParseQuery.
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("form %q bound, which url.ParseQuery refuses: %v", body, err)
	}
	// The echo is JSON, which writes invalid UTF-8 as U+FFFD: compare
	// what the model reads after the same encoding.
	v = jsonRT(v)
	if !slices.Equal(v["tag"], out.Tags) {
		t.Fatalf("form %q: tags bound %q, url.ParseQuery reads %q", body, out.Tags, v["tag"])
	}
	if notes, ok := v["note"]; ok && !slices.Contains(notes, out.Note) || !ok && out.Note != "" {
		t.Fatalf("form %q: note bound %q, url.ParseQuery reads %q", body, out.Note, notes)
	}
}

// fzCorpus reads testdata/fuzz/FuzzTypedBind: files of the fuzzer's own
// format ("go test fuzz v1", then one Go literal per argument).
func fzCorpus(t *testing.T) []fzInput {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzTypedBind", "*"))
	var out []fzInput
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 6 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a 5-argument corpus file", name)
		}
		var args [5]string
		for i, l := range lines[1:] {
			l = strings.TrimPrefix(strings.TrimPrefix(l, "string("), "[]byte(")
			s, err := strconv.Unquote(strings.TrimSuffix(l, ")"))
			if err != nil {
				t.Fatalf("%s line %d: %v", name, i+2, err)
			}
			args[i] = s
		}
		out = append(out, fzInput{args[0], args[1], args[2], args[3], args[4]})
	}
	return out
}

// jsonRT is v after a JSON round trip, as the endpoints' echo has it.
func jsonRT[T any](v T) T {
	b, _ := json.Marshal(v)
	var out T
	_ = json.Unmarshal(b, &out)
	return out
}
