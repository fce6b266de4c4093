package asyncapitest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.uber.org/goleak"
	"go.yaml.in/yaml/v4"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// documents are the golden AsyncAPI documents the generator's tests pin:
// the feature app's and the socketify example's.
var documents = []string{
	"../testdata/feature-asyncapi.json",
	"../../examples/socketify/testdata/asyncapi.json",
}

const specFile = "testdata/asyncapi-3.0.0.json"

// spec compiles the official AsyncAPI 3.0.0 schema.
func spec(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(specFile)
	if err != nil {
		t.Fatalf("compiling the AsyncAPI 3.0.0 schema: %v", err)
	}
	return s
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	return v
}

// TestValidate: every document is valid AsyncAPI 3.0.0 and has channels,
// operations and messages.
func TestValidate(t *testing.T) {
	s := spec(t)
	for _, path := range documents {
		doc := readJSON(t, path)
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s is not valid AsyncAPI 3.0.0:\n%v", path, err)
		}
		m := doc.(map[string]any)
		for _, k := range []string{"channels", "operations", "components"} {
			if len(asMap(m[k])) == 0 {
				t.Errorf("%s: no %s", path, k)
			}
		}
		if len(asMap(asMap(m["components"])["messages"])) == 0 {
			t.Errorf("%s: no messages", path)
		}
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// TestValidatorRejects: the schema is read for real: documents broken in
// the ways a generator could break them are rejected.
func TestValidatorRejects(t *testing.T) {
	s := spec(t)
	cases := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"no info", func(d map[string]any) { delete(d, "info") }, "info"},
		{"2.x action", func(d map[string]any) {
			asMap(asMap(d["operations"])["receive-chat-room"])["action"] = "publish"
		}, "'send', 'receive'"},
		{"bad ws binding", func(d map[string]any) {
			asMap(asMap(asMap(asMap(d["channels"])["chat-room"])["bindings"])["ws"])["method"] = "PUT"
		}, "/bindings/ws/method"},
		{"operation without channel", func(d map[string]any) {
			delete(asMap(asMap(d["operations"])["send-chat-room"]), "channel")
		}, "missing property 'channel'"},
		{"schema type", func(d map[string]any) {
			asMap(asMap(asMap(d["components"])["schemas"])["Say"])["type"] = "text"
		}, "Say"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := readJSON(t, documents[0]).(map[string]any)
			tc.mutate(doc)
			err := s.Validate(doc)
			if err == nil {
				t.Fatalf("the broken document validates")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestExamples: each message's examples satisfy its payload schema (JSON
// Schema draft 07, the AsyncAPI schema format), $refs into the
// document's components resolved.
func TestExamples(t *testing.T) {
	for _, path := range documents {
		doc := readJSON(t, path)
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		const loc = "urn:graft:asyncapi"
		if err := c.AddResource(loc, doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		msgs := asMap(asMap(doc.(map[string]any)["components"])["messages"])
		n := 0
		for name, m := range msgs {
			exs, _ := asMap(m)["examples"].([]any)
			if len(exs) == 0 {
				continue
			}
			s, err := c.Compile(loc + "#/components/messages/" + name + "/payload")
			if err != nil {
				t.Fatalf("%s: message %s: payload schema: %v", path, name, err)
			}
			for i, ex := range exs {
				n++
				if err := s.Validate(asMap(ex)["payload"]); err != nil {
					b, _ := json.Marshal(ex)
					t.Errorf("%s: message %s: example %d %s fails its payload schema:\n%v", path, name, i, b, err)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no message example checked", path)
		}
	}
}

// TestYAMLIsJSON: the YAML rendering reads back as the JSON document, so
// it is valid AsyncAPI too.
func TestYAMLIsJSON(t *testing.T) {
	y, err := os.ReadFile("../testdata/feature-asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		t.Fatalf("feature-asyncapi.yaml is not YAML: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, readJSON(t, documents[0])) {
		t.Errorf("feature-asyncapi.yaml and feature-asyncapi.json differ:\n%s", b)
	}
}
