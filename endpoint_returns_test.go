package graft

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// An Out.Status outside 100–999 is the handler's mistake: it answers 500
// (not an empty 200) and the log names the endpoint and the status.
func TestEndpointOutStatusOutOfRange(t *testing.T) {
	app, logs := newApp(t, Config{})
	type out struct {
		Status int
		Tag    string `header:"X-Tag"`
		Body   struct{ A int }
	}
	for _, s := range []int{1000, 99, -1} {
		Get(app, "/s"+strings.ReplaceAll(strconv.Itoa(s), "-", "m"), func(context.Context, *struct{}) (*out, error) {
			return &out{Status: s, Tag: "t"}, nil
		})
	}
	srv := epServer(t, app)
	for _, s := range []int{1000, 99, -1} {
		path := "/s" + strings.ReplaceAll(strconv.Itoa(s), "-", "m")
		r := epDo(t, srv, "GET", path, "", "")
		if r.status != 500 || r.header.Get("Content-Type") != mediaProblem || r.header.Get("X-Tag") != "" {
			t.Errorf("Status %d: got %d %q X-Tag=%q %s", s, r.status, r.header.Get("Content-Type"), r.header.Get("X-Tag"), r.body)
		}
		if l := logs.String(); !containsAll(l, "route="+path, "Out.Status "+strconv.Itoa(s)) {
			t.Errorf("Status %d: log does not name the endpoint and status:\n%s", s, l)
		}
	}
}

// A plain handler that sends an invalid status answers 500 too: the writer
// is not marked written before net/http rejects the code.
func TestPlainStatusOutOfRange(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/bad", func(c *Ctx) error { c.Status(1000); return nil })
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/bad", "", ""); r.status != 500 || r.header.Get("Content-Type") != mediaProblem {
		t.Errorf("got %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}
