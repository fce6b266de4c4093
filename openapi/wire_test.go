package openapi_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
)

// WireBase is embedded; its Name is hidden by WireBody's.
type WireBase struct {
	Name string `minLength:"5"`
	Kind string `json:"kind" enum:"a,b"`
}

// WireBody's fields are shown as the validator and encoding/json see
// them. Before the schema registry, the generator had its own walk: a
// ",string" *int was an integer (encoding/json quotes unnamed pointers to
// scalars too) and a tag name encoding/json rejects was the key.
type WireBody struct {
	WireBase
	Name   string
	Count  *int `json:"count,string"`
	OClock int  `json:"o'clock" required:"true"`
}

func TestSchemaFollowsTheWire(t *testing.T) {
	app := graft.New(graft.Config{})
	ext := openapi.Extension(openapi.Info{Title: "wire", Version: "1"})
	app.Register(ext)
	graft.Post(app, "/w", func(context.Context, *struct{ Body WireBody }) (*graft.NoContent, error) { return nil, nil })
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	s := at(t, decode(t, ext.JSON()), "components", "schemas", "WireBody").(map[string]any)
	props := at(t, s, "properties").(map[string]any)
	var names []string
	for n := range props {
		names = append(names, n)
	}
	want := map[string]any{
		"Name":   map[string]any{"type": "string"}, // WireBase.Name (minLength 5) is hidden
		"kind":   map[string]any{"type": "string", "enum": []any{"a", "b"}},
		"count":  map[string]any{"type": []any{"string", "null"}, "pattern": "^-?(0|[1-9][0-9]*)$"},
		"OClock": map[string]any{"type": "integer", "format": "int64"},
	}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("properties %v, want %v", props, want)
	}
	if got := at(t, s, "required"); !reflect.DeepEqual(got, []any{"OClock"}) {
		t.Errorf("required %v, want [OClock]", got)
	}
}
