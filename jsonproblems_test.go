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
				match = func(loc string) bool { return sameTypeErrorField(loc, te.Field) }
			case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
				key := unknownFieldName(err.Error())
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

// sameTypeErrorField reports whether the walk's location loc is the field
// an UnmarshalTypeError names: encoding/json leaves indexes out of the path
// and puts the Go names of embedded structs in ("jpBase.id", where the
// walk, like the JSON, says "body.id"), so the paths are compared from
// the end, as far as the shorter goes.
func sameTypeErrorField(loc, field string) bool {
	ours := strings.Split(strings.TrimPrefix(indexRE.ReplaceAllString(loc, ""), "body."), ".")
	theirs := strings.Split(field, ".")
	if field == "" {
		return loc == "body"
	}
	for len(ours) > 0 && len(theirs) > 0 {
		if ours[len(ours)-1] != theirs[len(theirs)-1] {
			return false
		}
		ours, theirs = ours[:len(ours)-1], theirs[:len(theirs)-1]
	}
	return true
}

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

// FuzzJSONProblems holds the walk to encoding/json on any document: when
// the decoder accepts it the walk finds nothing, and when the decoder
// reports a wrong type or an unknown field the walk reports that one too.
func FuzzJSONProblems(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","age":3,"inner":{"code":1,"tags":["x"]},"list":[{"code":1}],"labels":{"a":1},"count":"5"}`,
		`{"NAME":1,"Age":-1,"x":{"y":[1]},"list":[{"code":"c"}],"pair":[1,2,3]}`,
		`{"id":1e3,"Shadow":"s","raw":"AQI=","any":[{}],"msg":{"a":null}}`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, doc string, forbid bool) {
		dec := json.NewDecoder(strings.NewReader(doc))
		if forbid {
			dec.DisallowUnknownFields()
		}
		var v jpDoc
		err := dec.Decode(&v)
		var e errs
		found := jsonProblems([]byte(doc), reflect.TypeFor[jpDoc](), forbid, &e)
		var te *json.UnmarshalTypeError
		switch {
		case err == nil:
			if found {
				t.Fatalf("encoding/json accepts %s; the walk reports %+v", doc, e.list)
			}
		case errors.As(err, &te):
			if !slices.ContainsFunc(e.list, func(fe FieldError) bool { return sameTypeErrorField(fe.Location, te.Field) }) {
				t.Fatalf("encoding/json: %v; the walk reports %+v", err, e.list)
			}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			key := unknownFieldName(err.Error())
			if !slices.ContainsFunc(e.list, func(fe FieldError) bool { return strings.HasSuffix(fe.Location, "."+key) }) {
				t.Fatalf("encoding/json: %v; the walk reports %+v", err, e.list)
			}
		}
	})
}
