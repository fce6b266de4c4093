package kintest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// documents are the golden documents the generator's tests pin: the
// feature app's and the example apps'.
var documents = []string{
	"../testdata/feature.json",
	"../testdata/feature.yaml",
	"../testdata/feature-3.0.json",
	"../../examples/lihil/testdata/openapi.json",
	"../../examples/lihil/testdata/openapi-3.0.json",
}

func load(t *testing.T, path string) *openapi3.T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatalf("%s: kin-openapi cannot load it: %v", path, err)
	}
	return doc
}

// TestValidate: every document is valid OpenAPI (3.1 or 3.0) to
// kin-openapi, examples included, and names its version.
func TestValidate(t *testing.T) {
	for _, path := range documents {
		doc := load(t, path)
		want31 := !strings.Contains(path, "3.0")
		if doc.IsOpenAPI31OrLater() != want31 {
			t.Errorf("%s: openapi %q", path, doc.OpenAPI)
		}
		if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation(), openapi3.EnableSchemaPatternValidation()); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if len(doc.Paths.Map()) == 0 {
			t.Errorf("%s: no paths", path)
		}
	}
}

// TestYAMLIsJSON: the YAML rendering reads back as the JSON document.
func TestYAMLIsJSON(t *testing.T) {
	j, y := load(t, "../testdata/feature.json"), load(t, "../testdata/feature.yaml")
	jb, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	yb, err := json.Marshal(y)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jb, yb) {
		t.Errorf("feature.yaml and feature.json differ:\n%s\n%s", jb, yb)
	}
}

// example is one example of a document and the schema it must satisfy.
type example struct {
	where  string
	schema *openapi3.Schema
	value  any
}

// examples lists every operation's examples: params, request bodies and
// responses.
func examples(doc *openapi3.T) []example {
	var out []example
	media := func(where string, c openapi3.Content) {
		for mt, m := range c {
			if m.Example != nil && m.Schema != nil {
				out = append(out, example{where + " " + mt, m.Schema.Value, m.Example})
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			for _, p := range op.Parameters {
				if p.Value.Example != nil {
					out = append(out, example{where + " param " + p.Value.Name, p.Value.Schema.Value, p.Value.Example})
				}
			}
			if op.RequestBody != nil {
				media(where+" request", op.RequestBody.Value.Content)
			}
			for status, r := range op.Responses.Map() {
				media(where+" "+status, r.Value.Content)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

func visit(doc *openapi3.T, ex example, v any) error {
	opts := doc.GetSchemaValidationOptions()
	if doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	// Through JSON, as a client would send or receive it.
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var back any
	if err := json.Unmarshal(b, &back); err != nil {
		return err
	}
	return ex.schema.VisitJSON(back, opts...)
}

// TestExamplesRoundTrip: every example of every operation, marshalled and
// read back as a client would, satisfies its schema in both versions; and
// the check has teeth: the same examples broken are rejected.
func TestExamplesRoundTrip(t *testing.T) {
	for _, path := range documents {
		doc := load(t, path)
		exs := examples(doc)
		if len(exs) == 0 {
			t.Errorf("%s: no examples", path)
		}
		for _, ex := range exs {
			if err := visit(doc, ex, ex.value); err != nil {
				t.Errorf("%s: %s: example %v: %v", path, ex.where, ex.value, err)
			}
		}
	}
	doc := load(t, "../testdata/feature.json")
	doc30 := load(t, "../testdata/feature-3.0.json")
	for _, d := range []*openapi3.T{doc, doc30} {
		pet := d.Components.Schemas["Pet"].Value
		for _, bad := range []map[string]any{
			{"name": ""},                               // minLength 1
			{"kind": "fish"},                           // enum
			{"name": "Rex", "age": 41},                 // max 40
			{"name": "Rex", "tags": []any{"UP"}},       // pattern
			{"id": 1},                                  // name is required
			{"name": "Rex", "owner": map[string]any{}}, // owner's email is required
		} {
			if err := visit(d, example{schema: pet}, bad); err == nil {
				t.Errorf("%s: Pet accepts %v", d.OpenAPI, bad)
			}
		}
		if err := visit(d, example{schema: pet}, map[string]any{"name": "Rex", "age": nil}); err != nil {
			t.Errorf("%s: age is nullable: %v", d.OpenAPI, err)
		}
	}
}

// TestSameOperations: the 3.0 rendering has the operations, params and
// responses of the 3.1 document.
func TestSameOperations(t *testing.T) {
	for _, pair := range [][2]string{{"../testdata/feature.json", "../testdata/feature-3.0.json"}, {"../../examples/lihil/testdata/openapi.json", "../../examples/lihil/testdata/openapi-3.0.json"}} {
		a, b := shape(load(t, pair[0])), shape(load(t, pair[1]))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s and %s differ:\n%v\n%v", pair[0], pair[1], a, b)
		}
	}
}

func shape(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			s := method + " " + path + " " + op.OperationID
			for _, p := range op.Parameters {
				s += " " + p.Value.In + ":" + p.Value.Name
			}
			for status := range op.Responses.Map() {
				s += " " + status
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	for i := range out {
		f := strings.Fields(out[i])
		sort.Strings(f[3:])
		out[i] = strings.Join(f, " ")
	}
	return out
}
