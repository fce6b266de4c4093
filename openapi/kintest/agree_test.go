package kintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
)

// TestSchemaAndValidatorAgree: for body types with every validation tag,
// each constraint of the generated schema is enforced by the endpoint's
// validator and each check of the validator is in the schema. From the
// schema the test builds a valid body, then bodies at and past every
// boundary the schema states (minimum, maximum, lengths, item and
// property counts, enum, required) and bodies with a battery of values
// put at every property, whatever the schema says of it (so a check the
// validator makes and the schema lacks shows too). kin-openapi judges
// each body against the 3.1 and the 3.0 document; the app, served over
// TCP, judges it by answering 2xx or 422. The verdicts must match.
func TestSchemaAndValidatorAgree(t *testing.T) {
	app := graft.New(graft.Config{})
	ext := openapi.Extension(openapi.Info{Title: "agreement", Version: "1.0.0"}).WithoutDocs()
	app.Register(ext)
	graft.Post(app, "/agree", func(context.Context, *struct{ Body AgreeBody }) (*graft.NoContent, error) { return nil, nil })
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer func() {
		srv.Close()
		_ = app.Stop(context.Background())
	}()

	var docs []*openapi3.T
	for _, path := range []string{"/openapi.json", "/openapi-3.0.json"} {
		doc, err := openapi3.NewLoader().LoadFromData(httpGet(t, srv.URL+path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, doc)
	}
	bodySchema := func(doc *openapi3.T) *openapi3.Schema {
		return doc.Paths.Find("/agree").Post.RequestBody.Value.Content["application/json"].Schema.Value
	}
	root := bodySchema(docs[0])
	base := instance(root)
	cands := candidates(root, base)
	if len(cands) < 100 {
		t.Fatalf("only %d bodies generated", len(cands))
	}
	accepted, rejected := 0, 0
	for _, c := range cands {
		appOK, answer := postVerdict(t, srv.URL+"/agree", c.body)
		if appOK {
			accepted++
		} else {
			rejected++
		}
		for _, doc := range docs {
			err := validate(doc, bodySchema(doc), c.body)
			if (err == nil) != appOK {
				t.Errorf("%s %s: the document says valid=%v, the validator valid=%v\n\tbody %s\n\tdocument: %s\n\tvalidator: %s", doc.OpenAPI, c.what, err == nil, appOK, compact(c.body), firstLine(err), answer)
			}
		}
	}
	// The generated set has teeth both ways.
	if accepted < 20 || rejected < 40 {
		t.Errorf("%d bodies accepted, %d rejected: the generator lost its reach", accepted, rejected)
	}
	t.Logf("%d bodies: %d accepted, %d rejected, the same verdict from both documents and the validator", len(cands), accepted, rejected)
}

// candidate is a body and what was done to the valid one to make it.
type candidate struct {
	what string
	body any
}

// resolve looks through a 3.0 allOf wrapper around a $ref.
func resolve(s *openapi3.Schema) *openapi3.Schema {
	for s.Type == nil && len(s.AllOf) == 1 && len(s.Properties) == 0 {
		s = s.AllOf[0].Value
	}
	return s
}

func is(s *openapi3.Schema, typ string) bool { return s.Type != nil && s.Type.Includes(typ) }

func permitsNull(s *openapi3.Schema) bool { return s.Nullable || is(s, "null") }

// The formats graft validates, asserted by kin-openapi with its own
// checks: its email pattern and the uuid shape (date-time is built in).
func init() {
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`))
}

// instance builds a valid value from a schema: its example, else one from
// its shape (every property of an object, one item, one map entry).
func instance(s *openapi3.Schema) any {
	if len(s.Examples) > 0 {
		return roundTrip(s.Examples[0])
	}
	if s.Example != nil {
		return roundTrip(s.Example)
	}
	s = resolve(s)
	if len(s.Examples) > 0 {
		return roundTrip(s.Examples[0])
	}
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case is(s, "object") && s.AdditionalProperties.Schema != nil:
		return map[string]any{"1": instance(s.AdditionalProperties.Schema.Value)}
	case is(s, "object"):
		m := map[string]any{}
		for k, p := range s.Properties {
			m[k] = instance(p.Value)
		}
		return m
	case is(s, "array"):
		return []any{instance(s.Items.Value)}
	case is(s, "string"):
		return strings.Repeat("x", int(max(s.MinLength, 1)))
	case is(s, "integer"), is(s, "number"):
		if s.Min != nil {
			return *s.Min
		}
		return 1.0
	case is(s, "boolean"):
		return true
	}
	return nil
}

// battery is put at every property, whatever its schema.
var battery = []any{nil, "", "x", "ééé", strings.Repeat("y", 60), 0.0, -1.0, 1.5, 300.0, 1e10, true, []any{}, map[string]any{}}

// candidates lists the valid body and its variants: at every property
// (nested objects, the first item of arrays, map entries), the
// boundaries of its schema and the battery; for every object, each
// property removed.
func candidates(root *openapi3.Schema, base any) []candidate {
	out := []candidate{{"the valid body", base}}
	var walk func(s *openapi3.Schema, path []any, required bool)
	walk = func(s *openapi3.Schema, path []any, required bool) {
		at := func(what string, v any) {
			out = append(out, candidate{fmt.Sprintf("%s = %s", pathString(path), what), with(base, path, v)})
		}
		cur, ok := get(base, path)
		if !ok {
			return
		}
		for _, v := range boundaries(s, cur) {
			at(v.what, v.body)
		}
		if len(path) > 0 {
			for _, v := range battery {
				if v == nil && !required && !permitsNull(s) {
					// The one place the validator is laxer than the
					// document: null is "not sent" (encoding/json leaves
					// the zero value), so an optional field accepts it
					// whatever its type. Clients that follow the
					// document never send it (docs/openapi.md).
					continue
				}
				at(compact(v), v)
			}
		}
		s = resolve(s)
		switch {
		case is(s, "object") && s.AdditionalProperties.Schema != nil:
			if m, ok := cur.(map[string]any); ok {
				for k := range m {
					walk(s.AdditionalProperties.Schema.Value, append(slices.Clip(path), k), false)
				}
			}
		case is(s, "object"):
			keys := make([]string, 0, len(s.Properties))
			for k := range s.Properties {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = append(out, candidate{pathString(append(slices.Clip(path), k)) + " removed", without(base, append(slices.Clip(path), k))})
				walk(s.Properties[k].Value, append(slices.Clip(path), k), slices.Contains(s.Required, k))
			}
		case is(s, "array"):
			if a, ok := cur.([]any); ok && len(a) > 0 {
				walk(s.Items.Value, append(slices.Clip(path), 0), false)
			}
		}
	}
	walk(root, nil, true)
	return out
}

// boundaries are values at and just past each bound of s, cur being a
// valid value of s.
func boundaries(s *openapi3.Schema, cur any) []candidate {
	s = resolve(s)
	var out []candidate
	add := func(what string, v any) { out = append(out, candidate{what, v}) }
	step := 0.25
	if is(s, "integer") {
		step = 1
	}
	if s.Min != nil {
		add("minimum", *s.Min)
		add("minimum - step", *s.Min-step)
	}
	if s.Max != nil {
		add("maximum", *s.Max)
		add("maximum + step", *s.Max+step)
	}
	if is(s, "string") {
		for _, n := range lengths(s.MinLength, s.MaxLength) {
			add(fmt.Sprintf("%d runes", n), strings.Repeat("é", n))
		}
	}
	if is(s, "array") {
		if a, ok := cur.([]any); ok && len(a) > 0 {
			for _, n := range lengths(s.MinItems, s.MaxItems) {
				add(fmt.Sprintf("%d items", n), slices.Repeat(a[:1], n))
			}
		}
	}
	if is(s, "object") && s.AdditionalProperties.Schema != nil {
		if m, ok := cur.(map[string]any); ok && len(m) > 0 {
			var one any
			for _, v := range m {
				one = v
			}
			for _, n := range lengths(s.MinProps, s.MaxProps) {
				e := map[string]any{}
				for i := range n {
					e[fmt.Sprint(i+1)] = one
				}
				add(fmt.Sprintf("%d entries", n), e)
			}
		}
	}
	for _, e := range s.Enum {
		add("enum value "+compact(e), e)
	}
	return out
}

// lengths are the lengths at and past a minimum and a maximum.
func lengths(lo uint64, hi *uint64) []int {
	var out []int
	if lo > 0 {
		out = append(out, int(lo), int(lo)-1)
	}
	if hi != nil {
		out = append(out, int(*hi), int(*hi)+1)
	}
	return out
}

func validate(doc *openapi3.T, s *openapi3.Schema, v any) error {
	opts := doc.GetSchemaValidationOptions()
	if doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return s.VisitJSON(roundTrip(v), append(opts, openapi3.EnableFormatValidation())...)
}

// postVerdict sends the body and reports whether the app accepted it
// (2xx) or refused it (422, or 400 for a ",string" value that does not
// parse); any other answer fails the test.
func postVerdict(t *testing.T, url string, body any) (bool, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s within 10 s: %v", url, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	switch {
	case res.StatusCode/100 == 2:
		return true, fmt.Sprint(res.StatusCode)
	case res.StatusCode == http.StatusUnprocessableEntity, res.StatusCode == http.StatusBadRequest:
		return false, string(answer)
	}
	t.Fatalf("POST %s: %s: %d %s, want 2xx or 422", url, b, res.StatusCode, answer)
	return false, ""
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s within 10 s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return b
}

// roundTrip passes v through JSON, as a client sends it.
func roundTrip(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var back any
	if err := json.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	return back
}

func firstLine(err error) string {
	if err == nil {
		return "valid"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func pathString(path []any) string {
	var b strings.Builder
	b.WriteString("body")
	for _, p := range path {
		if i, ok := p.(int); ok {
			fmt.Fprintf(&b, "[%d]", i)
		} else {
			fmt.Fprintf(&b, ".%s", p)
		}
	}
	return b.String()
}

// get returns the value at path in v.
func get(v any, path []any) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p.(string)]; !ok {
				return nil, false
			}
		case []any:
			i := p.(int)
			if i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// with returns a copy of v with the value at path set to nv.
func with(v any, path []any, nv any) any {
	if len(path) == 0 {
		return roundTrip(nv)
	}
	c := roundTrip(v)
	parent, _ := get(c, path[:len(path)-1])
	switch x := parent.(type) {
	case map[string]any:
		x[path[len(path)-1].(string)] = roundTrip(nv)
	case []any:
		x[path[len(path)-1].(int)] = roundTrip(nv)
	}
	return c
}

// without returns a copy of v without the property at path.
func without(v any, path []any) any {
	c := roundTrip(v)
	parent, _ := get(c, path[:len(path)-1])
	if m, ok := parent.(map[string]any); ok {
		delete(m, path[len(path)-1].(string))
	}
	return c
}
