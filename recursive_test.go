package graft

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Recursive body types: the validation and presence plans compile once per
// type (a recursion is a back edge, not an expansion), and values are
// checked at every depth of the document.

type recBin struct {
	Name  string  `json:"name" minLength:"1"`
	Left  *recBin `json:"left"`
	Right *recBin `json:"right"`
}

type recTern struct {
	Name  string   `json:"name" minLength:"1"`
	Left  *recTern `json:"left"`
	Right *recTern `json:"right"`
	Mid   *recTern `json:"mid"`
}

type recKids struct {
	Name     string    `json:"name" minLength:"1"`
	Children []recKids `json:"children"`
}

type recMap struct {
	Name string            `json:"name" minLength:"1"`
	Sub  map[string]recMap `json:"sub"`
}

// recMutA and recMutB recurse through each other.
type recMutA struct {
	Name string   `json:"name" required:"true"`
	B    *recMutB `json:"b"`
}

type recMutB struct {
	Tag string   `json:"tag" maxLength:"3"`
	A   *recMutA `json:"a"`
}

// recWrap holds recursive types below a slice and a map: their checks are
// compiled at locations with "[]" and "{}" in them.
type recWrap struct {
	Items []recKids          `json:"items"`
	By    map[string]*recMap `json:"by"`
}

// RecEmbed embeds a pointer to itself: its promoted fields are its own,
// so the recursion adds no location.
type RecEmbed struct {
	*RecEmbed
	Name string    `json:"name" minLength:"1"`
	Next *RecEmbed `json:"next"`
}

// recEmpty recurses but checks nothing: it needs no plan at all.
type recEmpty struct {
	Name string      `json:"name"`
	Kids []*recEmpty `json:"kids"`
}

// registerWithin registers a POST endpoint taking Body B on a new app and
// fails the test if registration has not returned within 20 s.
func registerWithin[B any](t *testing.T) *App[Ctx] {
	t.Helper()
	app := New(Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		Post(app, "/r", func(_ context.Context, in *struct{ Body B }) (*struct{}, error) {
			return &struct{}{}, nil
		})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Post with a recursive Body %s did not return within 20s (compiling its validation plans)", reflect.TypeFor[B]())
	}
	return app
}

func TestRecursiveBodyRegisters(t *testing.T) {
	t.Run("binary", func(t *testing.T) { registerWithin[recBin](t) })
	t.Run("ternary", func(t *testing.T) { registerWithin[recTern](t) })
	t.Run("children slice", func(t *testing.T) { registerWithin[recKids](t) })
	t.Run("map", func(t *testing.T) { registerWithin[recMap](t) })
	t.Run("mutual", func(t *testing.T) { registerWithin[recMutA](t) })
	t.Run("embedded", func(t *testing.T) { registerWithin[RecEmbed](t) })
}

// recServer serves POST /r taking Body B, registered within the deadline.
func recServer[B any](t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(registerWithin[B](t))
	t.Cleanup(srv.Close)
	return srv
}

// nest wraps leaf in levels objects, each holding the next under key(i)
// (i counting from the outside) and, when sibling, a valid sibling too.
func nest(levels int, leaf string, wrap func(i int, inner string) string) string {
	doc := leaf
	for i := levels - 1; i >= 0; i-- {
		doc = wrap(i, doc)
	}
	return doc
}

func recWant422(t *testing.T, srv *httptest.Server, body string, want ...string) {
	t.Helper()
	r := epDo(t, srv, "POST", "/r", "application/json", body)
	if r.status != 422 {
		t.Fatalf("status %d, want 422: %.300s", r.status, r.body)
	}
	if got := epFields(t, r.body); !slices.Equal(got, want) {
		t.Errorf("422 fields\n got %q\nwant %q", got, want)
	}
}

func TestRecursiveBodyValidatedAtDepth(t *testing.T) {
	t.Run("binary, 50 levels", func(t *testing.T) {
		srv := recServer[recBin](t)
		// 49 levels down the left, with a valid right sibling at each.
		body := nest(49, `{"name":""}`, func(_ int, in string) string {
			return `{"name":"n","right":{"name":"r"},"left":` + in + `}`
		})
		recWant422(t, srv, body, "body"+strings.Repeat(".left", 49)+".name")
		if r := epDo(t, srv, "POST", "/r", "application/json", strings.Replace(body, `{"name":""}`, `{"name":"x"}`, 1)); r.status != 200 {
			t.Errorf("valid 50-level tree: status %d: %.300s", r.status, r.body)
		}
		// (The same document as msgpack: ext/msgpack's
		// TestRecursiveBodyMsgpack.)
	})
	t.Run("ternary, every branch", func(t *testing.T) {
		srv := recServer[recTern](t)
		keys := []string{"left", "mid", "right"}
		var path strings.Builder
		path.WriteString("body")
		for i := range 40 {
			path.WriteString("." + keys[i%3])
		}
		body := nest(40, `{"name":""}`, func(i int, in string) string {
			return `{"name":"n","` + keys[i%3] + `":` + in + `}`
		})
		recWant422(t, srv, body, path.String()+".name")
	})
	t.Run("children slices", func(t *testing.T) {
		srv := recServer[recKids](t)
		recWant422(t, srv, `{"name":"a","children":[{"name":"b","children":[{"name":"c"},{"name":"d"},{"name":"e"},{"name":""}]}]}`,
			"body.children[0].children[3].name")
		// 20 levels: deeper than the 8 indexes errs keeps inline.
		var want strings.Builder
		want.WriteString("body")
		body := nest(20, `{"name":""}`, func(i int, in string) string {
			sibs := strings.Repeat(`{"name":"s"},`, i%4)
			return `{"name":"n","children":[` + sibs + in + `]}`
		})
		for i := range 20 {
			fmt.Fprintf(&want, ".children[%d]", i%4)
		}
		recWant422(t, srv, body, want.String()+".name")
	})
	t.Run("map", func(t *testing.T) {
		srv := recServer[recMap](t)
		body := nest(12, `{"name":""}`, func(i int, in string) string {
			return fmt.Sprintf(`{"name":"n","sub":{"k%d":%s,"ok":{"name":"y"}}}`, i, in)
		})
		var want strings.Builder
		want.WriteString("body")
		for i := range 12 {
			fmt.Fprintf(&want, ".sub.k%d", i)
		}
		recWant422(t, srv, body, want.String()+".name")
	})
	t.Run("mutual recursion, required at depth", func(t *testing.T) {
		srv := recServer[recMutA](t)
		// A → B → A …: 30 A levels; the last A has no name, a B in the
		// middle a tag too long.
		body := nest(30, `{}`, func(i int, in string) string {
			tag := "t"
			if i == 10 {
				tag = "long"
			}
			return `{"name":"a","b":{"tag":"` + tag + `","a":` + in + `}}`
		})
		recWant422(t, srv, body, "body"+strings.Repeat(".b.a", 30)+".name", "body"+strings.Repeat(".b.a", 10)+".b.tag")
		// An explicit zero satisfies required at any depth.
		if r := epDo(t, srv, "POST", "/r", "application/json", strings.Replace(strings.Replace(body, `{}`, `{"name":""}`, 1), `"long"`, `"ok"`, 1)); r.status != 200 {
			t.Errorf("status %d, want 200: %.300s", r.status, r.body)
		}
	})
	t.Run("below a slice and a map", func(t *testing.T) {
		srv := recServer[recWrap](t)
		recWant422(t, srv, `{"items":[{"name":"a"},{"name":"b"},{"name":"c","children":[{"name":"d"},{"name":"e","children":[{"name":""}]}]}],`+
			`"by":{"x":{"name":"n","sub":{"y":{"name":"m","sub":{"z":{"name":""}}}}},"w":{"name":""}}}`,
			"body.by.w.name", "body.by.x.sub.y.sub.z.name", "body.items[2].children[1].children[0].name")
	})
	t.Run("embedded pointer to itself", func(t *testing.T) {
		srv := recServer[RecEmbed](t)
		recWant422(t, srv, `{"name":"a","next":{"name":"b","next":{"name":""}}}`, "body.next.next.name")
		if r := epDo(t, srv, "POST", "/r", "application/json", `{"name":"a","next":{"name":"b"}}`); r.status != 200 {
			t.Errorf("status %d, want 200: %s", r.status, r.body)
		}
	})
	t.Run("decode failures shadow at depth", func(t *testing.T) {
		srv := recServer[recKids](t)
		// A name of the wrong type 12 levels down is reported as such, not
		// also as too short.
		body := nest(12, `{"name":5}`, func(_ int, in string) string { return `{"name":"n","children":[` + in + `]}` })
		r := epDo(t, srv, "POST", "/r", "application/json", body)
		want := "body" + strings.Repeat(".children[0]", 12) + ".name"
		var p Problem
		if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 422 {
			t.Fatalf("status %d: %v: %.300s", r.status, err, r.body)
		}
		if len(p.Errors) != 1 || p.Errors[0].Location != want || strings.Contains(p.Errors[0].Message, "characters") {
			t.Errorf("errors %+v, want one type error at %s", p.Errors, want)
		}
	})
	t.Run("decode failures past the location cap shadow", func(t *testing.T) {
		srv := recServer[recBin](t)
		body := nest(100, `{"name":5}`, func(_ int, in string) string { return `{"name":"n","left":` + in + `}` })
		r := epDo(t, srv, "POST", "/r", "application/json", body)
		var p Problem
		if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 422 {
			t.Fatalf("status %d: %v: %.300s", r.status, err, r.body)
		}
		if len(p.Errors) != 1 || p.Errors[0].Message != "must be a string" || !strings.HasSuffix(p.Errors[0].Location, "…") {
			t.Errorf("errors %+v, want one type error at a clipped location", p.Errors)
		}
	})
	t.Run("past the location cap", func(t *testing.T) {
		srv := recServer[recBin](t)
		// 2000 levels: still validated; the location is clipped.
		body := nest(2000, `{"name":""}`, func(_ int, in string) string { return `{"name":"n","left":` + in + `}` })
		r := epDo(t, srv, "POST", "/r", "application/json", body)
		got := epFields(t, r.body)
		if r.status != 422 || len(got) != 1 || len(got[0]) > maxErrorLocation || !strings.HasPrefix(got[0], "body.left.left") || !strings.HasSuffix(got[0], "…") {
			t.Errorf("status %d, fields %q: want one clipped location", r.status, got)
		}
	})
	t.Run("422 cap", func(t *testing.T) {
		srv := recServer[recKids](t)
		// 300 failing nodes, spread over 3 levels.
		leaf := `{"name":""}`
		lvl := func(n int, in string) string {
			return `{"name":"","children":[` + strings.TrimSuffix(strings.Repeat(in+",", n), ",") + `]}`
		}
		body := lvl(3, lvl(10, lvl(9, leaf)))
		r := epDo(t, srv, "POST", "/r", "application/json", body)
		var p Problem
		if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 422 {
			t.Fatalf("status %d: %v", r.status, err)
		}
		if len(p.Errors) != maxFieldErrors || !p.ErrorsTruncated {
			t.Errorf("%d errors (truncated %v), want %d and truncated", len(p.Errors), p.ErrorsTruncated, maxFieldErrors)
		}
	})
	t.Run("a recursive type with no constraints has no plan", func(t *testing.T) {
		if c, err := compileValidator(reflect.TypeFor[recEmpty](), "body"); c != nil || err != nil {
			t.Errorf("validator %v, %v: want none", c != nil, err)
		}
		if n, err := compilePresence(reflect.TypeFor[recEmpty](), "body"); n != nil || err != nil {
			t.Errorf("presence plan %v, %v: want none", n != nil, err)
		}
	})
}

// TestRecursivePlanSize pins the plans' size: one node per place in the
// type, the recursions being edges back, not copies.
func TestRecursivePlanSize(t *testing.T) {
	for _, tc := range []struct {
		typ   reflect.Type
		nodes int
	}{
		{reflect.TypeFor[recBin](), 5},  // struct, 2 × (ptr, rec)
		{reflect.TypeFor[recTern](), 7}, // struct, 3 × (ptr, rec)
		{reflect.TypeFor[recKids](), 3}, // struct, slice, rec
		{reflect.TypeFor[recMap](), 3},  // struct, map, rec
		{reflect.TypeFor[recMutA](), 5}, // A, ptr, B, ptr, rec(A)
	} {
		n, err := compilePresence(tc.typ, "body")
		if err != nil || n == nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		seen := map[*pnode]bool{}
		var walk func(n *pnode)
		walk = func(n *pnode) {
			if n == nil || seen[n] {
				return
			}
			seen[n] = true
			walk(n.elem)
			for _, f := range n.fields {
				walk(f.child)
			}
		}
		walk(n)
		if len(seen) != tc.nodes {
			t.Errorf("%s: presence plan has %d nodes, want %d", tc.typ, len(seen), tc.nodes)
		}
	}
}

// BenchmarkRecursiveCompile compiles both plans of a three-way recursive
// type; before plans followed recursions, this did not finish in 20 s.
func BenchmarkRecursiveCompile(b *testing.B) {
	for _, t := range []reflect.Type{reflect.TypeFor[recTern](), reflect.TypeFor[recBin](), reflect.TypeFor[presBody]()} {
		b.Run(t.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compileValidator(t, "body"); err != nil {
					b.Fatal(err)
				}
				if _, err := compilePresence(t, "body"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRecursiveAllocs pins that walking a valid recursive value, a few
// recursions deep, allocates nothing: the frames live in errs.
func TestRecursiveAllocs(t *testing.T) {
	typ := reflect.TypeFor[recKids]()
	check, err := compileValidator(typ, "body")
	if err != nil || check == nil {
		t.Fatalf("compileValidator: %v", err)
	}
	plan, err := compilePresence(typ, "body")
	if err != nil || plan == nil {
		t.Fatalf("compilePresence: %v", err)
	}
	doc := []byte(nest(6, `{"name":"leaf"}`, func(_ int, in string) string {
		return `{"name":"n","children":[{"name":"s"},` + in + `]}`
	}))
	var v recKids
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	p := reflect.ValueOf(&v).UnsafePointer()
	var e errs
	if n := testing.AllocsPerRun(100, func() {
		e = errs{}
		check(p, &e)
		plan.validate(doc, p, &e)
	}); n != 0 || len(e.list) != 0 {
		t.Errorf("%v allocations, %d failures; want 0 and 0", n, len(e.list))
	}
}
