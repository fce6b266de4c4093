package graft

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

type jpInner struct {
	Code int      `json:"code"`
	Tags []string `json:"tags"`
}

type jpBase struct {
	ID     int    `json:"id"`
	Shadow string // hidden by the outer Shadow
}

type jpDoc struct {
	jpBase
	Name    string            `json:"name"`
	Age     uint8             `json:"age"`
	Score   float32           `json:"score"`
	OK      bool              `json:"ok"`
	Inner   *jpInner          `json:"inner"`
	List    []jpInner         `json:"list"`
	Pair    [2]int            `json:"pair"`
	Labels  map[string]int    `json:"labels"`
	Raw     []byte            `json:"raw"`
	When    time.Time         `json:"when"`
	Any     any               `json:"any"`
	Msg     json.RawMessage   `json:"msg"`
	Count   int               `json:"count,string"`
	Skipped string            `json:"-"`
	Plain   string            // matched by name, case-insensitively too
	Shadow  int               `json:"Shadow"`
	Meta    map[string]string `json:"meta,omitempty"`
}

// TestJSONProblems checks the walk on documents with one or more problems:
// it must list each, and the first problem encoding/json reports must be
// among them.
func TestJSONProblems(t *testing.T) {
	cases := []struct {
		name   string
		doc    string
		forbid bool
		want   []string // "location: message"
		aborts bool     // encoding/json stops with an error of its own (not a type or unknown-field error)
	}{
		{"unknown fields, all of them", `{"name":"a","admin":true,"inner":{"code":1,"x":2},"list":[{"y":1},{"code":2}],"z":null}`, true,
			[]string{"body.admin: is not a known field", "body.inner.x: is not a known field", "body.list[0].y: is not a known field", "body.z: is not a known field"}, false},
		{"unknown fields allowed, types still checked", `{"admin":true,"age":"old","inner":{"code":"x"}}`, false,
			[]string{"body.age: must be an integer", "body.inner.code: must be an integer"}, false},
		{"every wrong type", `{"name":1,"age":300,"score":"s","ok":"yes","inner":[],"list":{},"pair":[1,"b",3],"labels":{"a":1,"b":"2"},"raw":5,"id":1.5}`, false,
			[]string{"body.age: must be an integer", "body.id: must be an integer", "body.inner: must be an object", "body.labels.b: must be an integer",
				"body.list: must be an array", "body.name: must be a string", "body.ok: must be a boolean", "body.pair[1]: must be an integer",
				"body.raw: must be a string", "body.score: must be a number"}, false},
		{"json:\"-\" field is unknown", `{"Skipped":"x","name":"a"}`, true, []string{"body.Skipped: is not a known field"}, false},
		{"case-insensitive names, embedded and shadowed fields", `{"NAME":"a","plain":"p","ID":2,"shadow":"s"}`, false,
			[]string{"body.Shadow: must be an integer"}, false},
		{",string option", `{"count":5,"x":1}`, true, []string{"body.count: must be a string", "body.x: is not a known field"}, true},
		{"any, raw message and nulls take anything", `{"any":{"x":[1]},"msg":[1,{"a":2}],"inner":null,"name":null,"q":1}`, true,
			[]string{"body.q: is not a known field"}, false},
		{"integer overflow and fractions", `{"age":-1,"id":1e400,"score":1e39}`, false,
			[]string{"body.age: must be an integer", "body.id: must be an integer", "body.score: must be a number"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e errs
			if !jsonProblems([]byte(tc.doc), reflect.TypeFor[jpDoc](), tc.forbid, &e) {
				t.Fatalf("no problem found in %s", tc.doc)
			}
			var got []string
			for _, fe := range e.list {
				got = append(got, fe.Location+": "+fe.Message)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tc.want)
			}
			// encoding/json's own (first) complaint is one of them.
			dec := json.NewDecoder(strings.NewReader(tc.doc))
			if tc.forbid {
				dec.DisallowUnknownFields()
			}
			var v jpDoc
			err := dec.Decode(&v)
			if tc.aborts {
				return // decodeJSONBody answers such a document 400 with the decoder's error
			}
			// The decoder names a wrong type by its path without indexes
			// ("list.code") and an unknown field by its key alone.
			var te *json.UnmarshalTypeError
			var match func(loc string) bool
			switch {
			case errors.As(err, &te):
				match = func(loc string) bool { return indexRE.ReplaceAllString(loc, "") == "body."+te.Field }
			case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
				key := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
				match = func(loc string) bool { return strings.HasSuffix(loc, "."+key) }
			default:
				t.Fatalf("encoding/json: %v", err)
			}
			if !slices.ContainsFunc(e.list, func(fe FieldError) bool { return match(fe.Location) }) {
				t.Errorf("encoding/json reports %v, not in %q", err, got)
			}
		})
	}
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

// TestJSONProblemsNone: a document encoding/json decodes without complaint
// gives the walk nothing to report, so the decoder's error stays the
// answer.
func TestJSONProblemsNone(t *testing.T) {
	for _, doc := range []string{
		`{"name":"a","age":3,"inner":{"code":1,"tags":["x"]},"list":[{"code":1}],"pair":[1,2,3],"labels":{"a":1},"raw":"AQI=","when":"2026-01-01T00:00:00Z","count":"5","Plain":"p","Shadow":1,"id":2}`,
		`null`, `{}`, `not json`,
	} {
		var e errs
		if jsonProblems([]byte(doc), reflect.TypeFor[jpDoc](), true, &e) {
			t.Errorf("%s: problems %+v", doc, e.list)
		}
	}
}
