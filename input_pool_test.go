package graft

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"testing"
)

type poolBody struct {
	Name  string `json:"name"`
	Extra string `json:"extra"`
}

type poolIn struct {
	ID   int      `path:"id"`
	Q    string   `query:"q"`
	Page int      `query:"page" default:"1"`
	IDs  []int    `query:"ids"`
	Opt  *string  `query:"opt"`
	Note string   `header:"X-Note"`
	Body poolBody `required:"false"`
}

type poolSeen struct {
	ID    int     `json:"id"`
	Q     string  `json:"q"`
	Page  int     `json:"page"`
	IDs   []int   `json:"ids"`
	Opt   *string `json:"opt"`
	Note  string  `json:"note"`
	Name  string  `json:"name"`
	Extra string  `json:"extra"`
}

// TestInputPoolIsolation: typed inputs come from a pool per endpoint; a
// request that sends nothing must see zero values and defaults whatever
// the requests before it sent and whatever their handlers did to their
// input (here: overwrite every field), after a clean answer and after an
// error alike. GOMAXPROCS=1 makes every request reuse the same pooled
// input.
func TestInputPoolIsolation(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	app := New(Config{})
	junk := "junk"
	Post(app, "/pool/{id}", func(_ context.Context, in *poolIn) (*struct{ Body poolSeen }, error) {
		seen := poolSeen{in.ID, in.Q, in.Page, in.IDs, in.Opt, in.Note, in.Body.Name, in.Body.Extra}
		// What a careless handler might do to its input.
		in.Q, in.Page, in.Note, in.Opt = junk, 99, junk, &junk
		in.IDs = append(in.IDs, 999)
		in.Body = poolBody{junk, junk}
		if in.ID == 13 {
			return nil, errors.New("unlucky")
		}
		return &struct{ Body poolSeen }{seen}, nil
	})
	srv := epServer(t, app)
	for round := range 3 {
		for _, id := range []string{"7", "13"} {
			full := epDo(t, srv, "POST", "/pool/"+id+"?q=x&page=5&ids=1&ids=2&opt=o", "application/json",
				`{"name":"alice","extra":"e"}`, "X-Note", "n")
			if id == "7" && full.status != http.StatusOK {
				t.Fatalf("round %d: full request: %d %s", round, full.status, full.body)
			}
			if id == "13" && full.status != http.StatusInternalServerError {
				t.Fatalf("round %d: failing request: %d %s", round, full.status, full.body)
			}
			r := epDo(t, srv, "POST", "/pool/1", "", "")
			var got poolSeen
			if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &got) != nil {
				t.Fatalf("round %d after id %s: empty request: %d %s", round, id, r.status, r.body)
			}
			if got.Opt != nil || got.IDs != nil || got.ID != 1 || got.Q != "" || got.Page != 1 || got.Note != "" || got.Name != "" || got.Extra != "" {
				t.Errorf("round %d after id %s: a request that sent nothing saw %+v", round, id, got)
			}
		}
	}
}

// TestBindJSONPoolIsolation interleaves hostile and valid bodies on a
// plain handler's c.BindJSON, which reads into the pooled body buffer and
// decodes with the pooled decoder: every valid request gets its own
// values. GOMAXPROCS=1 makes them reuse the same pooled objects.
func TestBindJSONPoolIsolation(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	app := New(Config{})
	app.POST("/bind", func(c *Ctx) error {
		var b poolBody
		if err := c.BindJSON(&b); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, &b)
	})
	srv := epServer(t, app)
	hostile := []string{
		`{"name":"x"}]`, `{"name":"x"} {"name":"y"}`, `{"name":"x"`, `{"name" 1}`,
		`{"name":7}`, `[1,2]`, `"s" "t"`, `{"name":"` + string(make([]byte, 3000)) + `"}`,
	}
	for round := range 3 {
		for i, h := range hostile {
			if r := epDo(t, srv, "POST", "/bind", "application/json", h); r.status != http.StatusBadRequest {
				t.Errorf("hostile %.40q answered %d %s", h, r.status, r.body)
			}
			want := poolBody{Name: "n" + string(rune('a'+i)), Extra: string(rune('A' + round))}
			req, _ := json.Marshal(want)
			r := epDo(t, srv, "POST", "/bind", "application/json", string(req))
			var got poolBody
			if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &got) != nil || got != want {
				t.Fatalf("valid request after hostile %.40q: %d %s, want %+v", h, r.status, r.body, want)
			}
		}
	}
}
