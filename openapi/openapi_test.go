package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/graftest"
)

// decode parses a JSON document into generic values.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	return m
}

// at walks a decoded document along keys.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: not an object at %q", keys[:i], k)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("no %q at %v", k, keys[:i])
		}
	}
	return v
}

func TestFeatureGolden(t *testing.T) {
	app, ext := featureApp()
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	graftest.Golden(t, "feature.json", ext.JSON())
	graftest.Golden(t, "feature.yaml", ext.YAML())
	graftest.Golden(t, "feature-3.0.json", ext.JSON30())
}

// TestFeatureDocument checks, beyond the golden file, what each feature
// must put in the document.
func TestFeatureDocument(t *testing.T) {
	app, ext := featureApp()
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	d := decode(t, ext.JSON())
	get := at(t, d, "paths", "/pets/{id}", "get").(map[string]any)
	names := map[string]map[string]any{}
	for _, p := range get["parameters"].([]any) {
		p := p.(map[string]any)
		names[p["in"].(string)+" "+p["name"].(string)] = p
	}
	for _, want := range []string{"path id", "query fields", "query tag", "query limit", "header X-Trace", "header X-Tenant", "cookie session"} {
		if names[want] == nil {
			t.Errorf("GET /pets/{id} lacks param %s", want)
		}
	}
	if len(names) != 7 {
		t.Errorf("GET /pets/{id} has params %v; the plugin-only Caller field and the Authorization header (a security scheme) must not be params", names)
	}
	if names["query fields"]["explode"] != false || names["query tag"]["explode"] != true {
		t.Errorf("explode: fields %v, tag %v", names["query fields"]["explode"], names["query tag"]["explode"])
	}
	if names["header X-Trace"]["deprecated"] != true || at(t, d, "components", "schemas", "Pet", "properties", "nickname", "deprecated") != true {
		t.Error("deprecated tags")
	}
	if at(t, names["query limit"], "schema", "default") != 20.0 {
		t.Errorf("limit default: %v", names["query limit"]["schema"])
	}
	if !reflect.DeepEqual(get["security"], []any{map[string]any{"bearerAuth": []any{}}}) {
		t.Errorf("security %v", get["security"])
	}
	if at(t, d, "components", "securitySchemes", "bearerAuth", "scheme") != "bearer" {
		t.Error("no bearer scheme")
	}
	for _, status := range []string{"200", "401", "404", "422"} {
		at(t, get, "responses", status, "description")
	}
	if at(t, get, "responses", "200", "headers", "ETag", "description") != "the pet's version" {
		t.Error("ETag header")
	}
	if at(t, d, "paths", "/pets/{id}", "put", "responses", "409", "content", "application/json", "schema", "$ref") != "#/components/schemas/Conflict" {
		t.Error("declared 409")
	}
	if at(t, d, "paths", "/pets/{id}", "delete", "deprecated") != true {
		t.Error("delete is not deprecated")
	}
	if _, ok := at(t, d, "paths", "/forms", "post", "responses", "204").(map[string]any)["content"]; ok {
		t.Error("204 has content")
	}
	// Problem responses of a body endpoint: 400, 413, 415, 422.
	for _, status := range []string{"400", "413", "415", "422"} {
		if at(t, d, "paths", "/pets/{id}", "put", "responses", status, "content", "application/problem+json", "schema", "$ref") != "#/components/schemas/Problem" {
			t.Errorf("put %s", status)
		}
	}
	problem := at(t, d, "components", "schemas", "Problem", "properties").(map[string]any)
	if at(t, problem, "errors", "items", "required") == nil || at(t, problem, "errorsTruncated", "type") != "boolean" {
		t.Errorf("Problem: %v", problem)
	}
	pet := at(t, d, "components", "schemas", "Pet", "properties").(map[string]any)
	if _, ok := pet["city"]; !ok {
		t.Error("the embedded Address's city is not flattened into Pet")
	}
	for _, hidden := range []string{"Secret", "internal", "Address"} {
		if _, ok := pet[hidden]; ok {
			t.Errorf("Pet shows %s", hidden)
		}
	}
	if !reflect.DeepEqual(at(t, pet, "age", "type"), []any{"integer", "null"}) || at(t, pet, "owner", "$ref") != "#/components/schemas/Owner" {
		t.Errorf("nullable: age %v, owner %v", pet["age"], pet["owner"])
	}
	if at(t, pet, "weight", "type") != "string" || at(t, pet, "tags", "maxItems") != 10.0 || at(t, pet, "tags", "items", "pattern") != "^[a-z]+$" {
		t.Errorf("weight %v, tags %v", pet["weight"], pet["tags"])
	}
	multipart := at(t, d, "paths", "/albums", "post", "requestBody", "content", "multipart/form-data", "schema", "properties").(map[string]any)
	if at(t, multipart, "cover", "contentMediaType") != "application/octet-stream" || at(t, multipart, "photos", "type") != "array" {
		t.Errorf("files: %v", multipart)
	}
	if at(t, d, "paths", "/ticks", "get", "responses", "200", "content", "text/event-stream", "schema", "items", "$ref") != "#/components/schemas/Tick" {
		t.Error("SSE")
	}
	if _, ok := at(t, d, "paths", "/page", "get", "responses", "200", "content").(map[string]any)["text/html; charset=utf-8"]; !ok {
		t.Error("text/html stream")
	}
	if _, ok := at(t, d, "paths").(map[string]any)["/plain"]; ok {
		t.Error("a plain route is in the document")
	}
	if _, ok := at(t, d, "paths").(map[string]any)["/openapi.json"]; ok {
		t.Error("the document describes itself")
	}
	d30 := decode(t, ext.JSON30())
	pet30 := at(t, d30, "components", "schemas", "Pet", "properties").(map[string]any)
	if d30["openapi"] != "3.0.3" || at(t, pet30, "age", "type") != "integer" || at(t, pet30, "age", "nullable") != true ||
		at(t, pet30, "name", "example") != "Rex" || at(t, pet30, "photo", "format") != "byte" {
		t.Errorf("3.0: %v", pet30)
	}
	if at(t, pet30, "city", "description") != "the city" {
		t.Errorf("3.0 city %v", pet30["city"])
	}
}

// TestComponentNames: same-named types of two packages, and two
// instantiations of one generic type, get distinct stable names.
func TestComponentNames(t *testing.T) {
	for range 3 {
		app, ext := featureApp()
		if err := app.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		schemas := at(t, decode(t, ext.JSON()), "components", "schemas").(map[string]any)
		var got []string
		for n := range schemas {
			got = append(got, n)
		}
		sort.Strings(got)
		want := []string{"AUser", "BUser", "Conflict", "Owner", "PageAUser", "PageBUser", "PagePet", "Pet", "Problem", "Tick"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("components %v, want %v", got, want)
		}
		app.Stop(t.Context())
	}
}

// stubWriter discards the body and reuses its header map, so what
// allocates is the framework, not the writer.
type stubWriter struct{ h http.Header }

func (w *stubWriter) Header() http.Header         { return w.h }
func (w *stubWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *stubWriter) WriteHeader(int)             {}

// TestServe: each document and the docs page over a real listener, with
// their media types; serving a document allocates nothing.
func TestServe(t *testing.T) {
	app, ext := featureApp()
	srv := httptest.NewServer(app)
	defer srv.Close()
	cases := []struct {
		path, ctype string
		want        func() []byte
	}{
		{"/openapi.json", "application/json", ext.JSON},
		{"/openapi.yaml", "application/yaml", ext.YAML},
		{"/openapi-3.0.json", "application/json", ext.JSON30},
	}
	for _, tc := range cases {
		st, h, body := fetch(t, srv.URL+tc.path)
		if st != 200 || h.Get("Content-Type") != tc.ctype || !bytes.Equal(body, tc.want()) || len(body) == 0 {
			t.Errorf("%s: %d %q, %d bytes", tc.path, st, h.Get("Content-Type"), len(body))
		}
	}
	st, h, body := fetch(t, srv.URL+"/docs")
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte(`data-url="/openapi.json"`)) {
		t.Errorf("/docs: %d %q %s", st, h.Get("Content-Type"), body)
	}
	for _, f := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js", "LICENSE"} {
		if st, _, body := fetch(t, srv.URL+"/docs/"+f); st != 200 || len(body) == 0 {
			t.Errorf("/docs/%s: %d, %d bytes", f, st, len(body))
		}
	}
	if st, h, _ := fetch(t, srv.URL+"/docs/missing.js"); st != 404 || h.Get("Content-Type") != "application/problem+json" {
		t.Errorf("/docs/missing.js: %d %q", st, h.Get("Content-Type"))
	}
	if race {
		return
	}
	for _, path := range []string{"/openapi.json", "/openapi.yaml", "/openapi-3.0.json"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		w := &stubWriter{h: http.Header{}}
		allocs := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, req) })
		if allocs != 0 {
			t.Errorf("GET %s: %v allocations per request, want 0", path, allocs)
		}
	}
}

func fetch(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, res.Header, b
}
