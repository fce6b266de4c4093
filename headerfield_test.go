package graft_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graftgo/graft"
)

// parses counts the calls of parseVersion, to check the per-request cache.
var parses atomic.Int64

func parseVersion(s string) (int, error) {
	parses.Add(1)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a version number", s)
	}
	return n, nil
}

// versionField is a request and response header holding a number.
var versionField = graft.NewHeaderField("x-version", parseVersion, strconv.Itoa)

// listField joins repeated header lines.
var listField = graft.NewHeaderField("X-Tags", func(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out, nil
}, func(v []string) string { return strings.Join(v, ", ") })

type fieldCtx struct {
	graft.Ctx
}

// Version reads the field as a mixin-like method would, on the app's type.
func (c *fieldCtx) Version() int {
	v, _, _ := versionField.Get(c)
	return v
}

func TestHeaderFieldParsesOncePerRequestAndSetsTheResponse(t *testing.T) {
	app := graft.NewWithContext[fieldCtx](graft.Config{RequestPoolMaxItems: 1}) // one pooled context: requests reuse it
	app.Register(versionField, listField)
	app.GET("/v", func(c *fieldCtx) error {
		v, ok, err := versionField.Get(c)
		if err != nil {
			return err
		}
		for range 3 { // later reads use the first parse
			if w, wok, _ := versionField.Get(&c.Ctx); w != v || wok != ok {
				return errors.New("a second Get disagrees with the first")
			}
		}
		if c.Version() != v {
			return errors.New("Get through the app's context type disagrees")
		}
		if !ok {
			return c.Text(http.StatusOK, "none")
		}
		versionField.Set(c, v+1)
		return c.Text(http.StatusOK, strconv.Itoa(v))
	})
	app.GET("/tags", func(c *fieldCtx) error {
		tags, _, _ := listField.Get(c)
		listField.Set(c, slices.Concat(tags, []string{"served"}))
		listField.Del(c) // and back: Del removes it
		listField.Set(c, slices.Concat(tags, []string{"served"}))
		return c.Text(http.StatusOK, strconv.Itoa(len(tags)))
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	before := parses.Load()
	res, body := exchange(t, srv.Client(), "GET", srv.URL+"/v", "X-Version", "41")
	if res.StatusCode != 200 || string(body) != "41" || res.Header.Get("X-Version") != "42" {
		t.Fatalf("GET /v with X-Version 41: %d %q %v", res.StatusCode, body, res.Header)
	}
	if n := parses.Load() - before; n != 1 {
		t.Errorf("the header was parsed %d times in one request, want once", n)
	}
	// The next request on the same pooled context sees its own header,
	// not the cached parse of the last one.
	res, body = exchange(t, srv.Client(), "GET", srv.URL+"/v")
	if string(body) != "none" || res.Header.Get("X-Version") != "" {
		t.Errorf("GET /v without the header: %q %v (the last request's value leaked)", body, res.Header)
	}
	res, body = exchange(t, srv.Client(), "GET", srv.URL+"/v", "X-Version", "7")
	if string(body) != "7" || res.Header.Get("X-Version") != "8" {
		t.Errorf("GET /v with X-Version 7: %q %v", body, res.Header)
	}

	// A value that does not parse answers 400 naming the header.
	res, body = exchange(t, srv.Client(), "GET", srv.URL+"/v", "X-Version", "seven")
	var p graft.Problem
	if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != 400 || len(p.Errors) != 1 || p.Errors[0].Location != "header.X-Version" || !strings.Contains(p.Detail, `"seven" is not a version number`) {
		t.Errorf("bad header: %d %s", res.StatusCode, body)
	}

	// Repeated header lines are one list.
	req, _ := http.NewRequest("GET", srv.URL+"/tags", nil)
	req.Header.Add("X-Tags", "a, b")
	req.Header.Add("X-Tags", "c")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Values("X-Tags"); !slices.Equal(got, []string{"a, b, c, served"}) {
		t.Errorf("X-Tags answered %q", got)
	}
}

func TestHeaderFieldsAreListed(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(versionField)
	api := app.Group("/api")
	api.Register(respExt{"t.uses-fields", func(b *graft.Builder) error {
		b.HeaderField(versionField, listField, listField)
		return nil
	}})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	got := map[string][]string{}
	for _, e := range app.Extensions() {
		got[e.Scope+" "+e.ID] = e.HeaderFields
	}
	if !slices.Equal(got[" graft.header.X-Version"], []string{"X-Version"}) || !slices.Equal(got["/api t.uses-fields"], []string{"X-Version", "X-Tags"}) {
		t.Errorf("Extensions() = %+v", app.Extensions())
	}
}

func TestHeaderFieldSetupMistakes(t *testing.T) {
	other := graft.NewHeaderField("X-Version", strconv.Atoi, strconv.Itoa)
	app := graft.New(graft.Config{})
	app.Register(versionField, respExt{"t.other", func(b *graft.Builder) error {
		b.HeaderField(other)
		return nil
	}})
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "header field X-Version is declared by graft.header.X-Version and, as a different field, by t.other") {
		t.Errorf("two fields for one header: %v", err)
	}
	// The same field value registered twice on one scope is a duplicate.
	app = graft.New(graft.Config{})
	app.Register(versionField, versionField)
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "graft.header.X-Version is registered twice") {
		t.Errorf("a field registered twice: %v", err)
	}

	for _, tc := range []struct {
		name   string
		parse  func(string) (int, error)
		format func(int) string
		want   string
	}{
		{"", strconv.Atoi, strconv.Itoa, "header name is empty"},
		{"X Bad", strconv.Atoi, strconv.Itoa, "not a token"},
		{"X-N", nil, strconv.Itoa, `NewHeaderField("X-N"): parse is nil`},
		{"X-N", strconv.Atoi, nil, `NewHeaderField("X-N"): format is nil`},
	} {
		func() {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), tc.want) {
					t.Errorf("NewHeaderField(%q) panicked with %v, want %q", tc.name, v, tc.want)
				}
			}()
			graft.NewHeaderField(tc.name, tc.parse, tc.format)
		}()
	}
}

func TestHeaderFieldGetAllocs(t *testing.T) {
	app := graft.New(graft.Config{})
	app.GET("/v", func(c *graft.Ctx) error {
		if v, ok, err := versionField.Get(c); err != nil || !ok || v != 5 {
			return errors.New("no version")
		}
		versionField.Get(c)
		return nil
	})
	req, _ := http.NewRequest("GET", "/v", nil)
	req.Header.Set("X-Version", "5")
	w := newDiscard()
	app.ServeHTTP(w, req)
	if n := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("reading a typed header field: %v allocations per request, want 0", n)
	}
}
