package graft

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The body walks (presence plans, the validator's compiled checks for
// values it validates as decoded, the 422 walk) read one description of
// each struct type (internal/schema). Before, each had its own walk and
// they disagreed with each other and with encoding/json; each case below
// failed then.

// walkBase is embedded by value: its fields are promoted.
type walkBase struct {
	Code string `json:"code" minLength:"2" maxLength:"4"`
}

type walkEmbedded struct {
	walkBase
	Qty int `json:"qty"`
}

// walkHidden's own Name hides the embedded one, which encoding/json never
// fills: its constraint cannot apply.
type walkHiddenBase struct {
	Name string `minLength:"5"`
}

type walkHidden struct {
	walkHiddenBase
	Name string
}

// WalkTenant is embedded through a pointer, which stays nil when the
// document has none of its fields.
type WalkTenant struct {
	Tenant string `json:"tenant" required:"true"`
}

type walkPtrEmbedded struct {
	*WalkTenant
	Note string `json:"note"`
}

// walkBadName's tag name is not one encoding/json accepts (a quote), so
// the key is the Go name.
type walkBadName struct {
	OClock int `json:"o'clock" required:"true"`
}

// walkItem's qty is optional, checked when sent.
type walkItem struct {
	Qty int `json:"qty" min:"1"`
}

func walkPost[B any](t *testing.T, forbid bool) func(body string) epResult {
	t.Helper()
	app := New(Config{})
	h := func(_ context.Context, in *struct{ Body B }) (*struct{ Body B }, error) {
		return &struct{ Body B }{in.Body}, nil
	}
	if forbid {
		Post(app, "/p", func(ctx context.Context, in *struct {
			Body B `unknown:"forbid"`
		}) (*struct{ Body B }, error) {
			return h(ctx, &struct{ Body B }{in.Body})
		})
	} else {
		Post(app, "/p", h)
	}
	srv := epServer(t, app)
	return func(body string) epResult {
		return epDo(t, srv, "POST", "/p", "application/json", body)
	}
}

func TestWalksAgree(t *testing.T) {
	cases := []struct {
		name   string
		post   func(string) epResult
		body   string
		fields []string // nil: accepted
	}{
		// The presence plan followed an embedded-by-value struct as if it
		// were a pointer: it read a string's bytes as an address (valid
		// bodies got a 422, short ones a panic and a 500).
		{"embedded by value: valid", walkPost[walkEmbedded](t, false), `{"code":"abc","qty":1}`, nil},
		{"embedded by value: too long", walkPost[walkEmbedded](t, false), `{"code":"abcdefgh","qty":1}`, []string{"body.code"}},
		{"embedded by value: too short", walkPost[walkEmbedded](t, false), `{"code":"a","qty":1}`, []string{"body.code"}},
		// Checked as decoded (map keys that are numbers), the validator
		// walked every embedded field: the hidden one failed its
		// minLength on a valid body.
		{"hidden field not checked", walkPost[map[int]walkHidden](t, false), `{"1":{"Name":"ab"}}`, nil},
		// and it skipped a nil embedded pointer whole, required fields
		// and all.
		{"nil embedded pointer: required", walkPost[map[int]walkPtrEmbedded](t, false), `{"1":{"note":"x"}}`, []string{"body.1.tenant"}},
		{"nil embedded pointer: sent", walkPost[map[int]walkPtrEmbedded](t, false), `{"1":{"tenant":"t"}}`, nil},
		// A map with integer keys was checked as decoded, without the
		// document: an optional field it lacked was checked as zero.
		{"integer keys: optional absent", walkPost[map[int]walkItem](t, false), `{"1":{}}`, nil},
		{"integer keys: sent", walkPost[map[int]walkItem](t, false), `{"1":{"qty":0}}`, []string{"body.1.qty"}},
		{"integer keys: as encoding/json parses them", walkPost[map[uint8]walkItem](t, false), `{"07":{"qty":0},"8":{}}`, []string{"body.7.qty"}},
		// The presence plan and the 422 walk used an invalid tag name as
		// the key, where encoding/json uses the Go name.
		{"invalid tag name: required", walkPost[walkBadName](t, false), `{"OClock":7}`, nil},
		{"invalid tag name: absent", walkPost[walkBadName](t, false), `{}`, []string{"body.OClock"}},
		{"invalid tag name: 422 walk", walkPost[walkBadName](t, true), `{"OClock":"seven"}`, []string{"body.OClock"}},
	}
	for _, c := range cases {
		r := c.post(c.body)
		if c.fields == nil {
			if r.status != 200 {
				t.Errorf("%s: %s: %d %s, want 200", c.name, c.body, r.status, r.body)
			}
			continue
		}
		if r.status != 422 {
			t.Errorf("%s: %s: %d %s, want 422", c.name, c.body, r.status, r.body)
			continue
		}
		if got := epFields(t, r.body); !slices.Equal(got, c.fields) {
			t.Errorf("%s: %s: failing fields %v, want %v (%s)", c.name, c.body, got, c.fields, r.body)
		}
		if c.name == "invalid tag name: 422 walk" && !strings.Contains(r.body, "must be") {
			t.Errorf("%s: %s: %s, want a wrong-type failure, not an unknown field", c.name, c.body, r.body)
		}
	}
}
