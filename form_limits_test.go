package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

type limitsIn struct {
	Note  string                  `form:"note"`
	Tags  []string                `form:"tag"`
	Files []*multipart.FileHeader `form:"file"`
}

type limitsOut struct {
	Body struct {
		Fields int      `json:"fields"`
		Files  []string `json:"files"` // contents, read back through Open
	}
}

func readLimitsIn(_ context.Context, in *limitsIn) (*limitsOut, error) {
	o := &limitsOut{}
	o.Body.Fields = len(in.Tags)
	if in.Note != "" {
		o.Body.Fields++
	}
	for _, fh := range in.Files {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		o.Body.Files = append(o.Body.Files, string(b))
	}
	return o, nil
}

// multipartBody writes fields (name=value pairs) and files (contents) as
// multipart/form-data.
func multipartBody(t *testing.T, fields []string, files []string) (ctype, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range files {
		fw, err := mw.CreateFormFile("file", fmt.Sprintf("f%d.txt", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// check413 checks a form limit answer: 413, problem+json, a detail naming
// the limit.
func check413(t *testing.T, what string, r epResult, detail string) {
	t.Helper()
	var p Problem
	if r.status != 413 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || json.Unmarshal([]byte(r.body), &p) != nil ||
		p.Status != 413 || !strings.Contains(p.Detail, detail) {
		t.Errorf("%s: %d %s %s, want a 413 problem saying %q", what, r.status, r.header.Get("Content-Type"), r.body, detail)
	}
}

// waitNoTempFiles waits until dir holds no multipart temporary file.
func waitNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the form's temporary files to be removed: %d left in %s", len(ents), dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFormLimitsMultipart(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the form's temporary files go
	app := New(Config{})
	ri := Post(app, "/up", readLimitsIn, WithBodyLimit(64<<10),
		WithFormLimits(FormLimits{MaxFiles: 2, MaxFields: 3, MaxPartSize: 10, MaxMemory: 8}))
	srv := epServer(t, app)
	post := func(fields, files []string) epResult {
		ct, body := multipartBody(t, fields, files)
		return epDo(t, srv, "POST", "/up", ct, body)
	}
	ok := func(what string, r epResult, want string) {
		t.Helper()
		if r.status != 200 || strings.TrimSpace(r.body) != want {
			t.Errorf("%s: %d %s, want 200 %s", what, r.status, r.body, want)
		}
	}
	// At each limit.
	ok("2 files", post(nil, []string{"a", "b"}), `{"fields":0,"files":["a","b"]}`)
	ok("3 fields", post([]string{"note=n", "tag=1", "tag=2"}, nil), `{"fields":3,"files":null}`)
	ok("10-byte field", post([]string{"note=0123456789"}, nil), `{"fields":1,"files":null}`)
	// Files past MaxMemory go to a temporary file and read back whole.
	big := strings.Repeat("x", 20)
	ok("a file over MaxMemory", post(nil, []string{"1234", big}), `{"fields":0,"files":["1234","`+big+`"]}`)
	// Just over each.
	check413(t, "3 files", post(nil, []string{"a", "b", "c"}), "the form has more than 2 files")
	check413(t, "4 fields", post([]string{"note=n", "tag=1", "tag=2", "tag=3"}, nil), "the form has more than 3 fields")
	check413(t, "11-byte field", post([]string{"note=01234567890"}, nil), `form field "note" has more than 10 bytes`)
	// A file may be bigger than MaxPartSize: the body limit bounds it.
	ok("a file over MaxPartSize", post(nil, []string{big}), `{"fields":0,"files":["`+big+`"]}`)
	check413(t, "over the body limit", post(nil, []string{strings.Repeat("y", 64<<10)}), "request body exceeds the limit of 65536 bytes")
	// Files written before a limit stopped the read are removed too.
	check413(t, "3 big files", post(nil, []string{big, big, big}), "more than 2 files")
	waitNoTempFiles(t, tmp)

	fm := SignatureOf(ri).Form
	if fm.MaxFiles != 2 || fm.MaxFields != 3 || fm.MaxPartSize != 10 || fm.MaxMemory != 8 {
		t.Errorf("FormMeta %+v", fm)
	}
}

func TestFormLimitsURLEncoded(t *testing.T) {
	type in struct {
		Note string   `form:"note"`
		Tags []string `form:"tag"`
	}
	app := New(Config{})
	Post(app, "/f", func(_ context.Context, in *in) (*okOut, error) {
		return &okOut{Body: fmt.Sprint(len(in.Tags))}, nil
	}, WithFormLimits(FormLimits{MaxFields: 3, MaxPartSize: 10}))
	srv := epServer(t, app)
	post := func(v url.Values) epResult {
		return epDo(t, srv, "POST", "/f", "application/x-www-form-urlencoded", v.Encode())
	}
	if r := post(url.Values{"note": {"0123456789"}, "tag": {"a", "b"}}); r.status != 200 {
		t.Errorf("3 fields, 10 bytes: %d %s", r.status, r.body)
	}
	check413(t, "4 fields", post(url.Values{"tag": {"a", "b", "c", "d"}}), "the form has more than 3 fields")
	check413(t, "11-byte value", post(url.Values{"note": {"01234567890"}}), `form field "note" has more than 10 bytes`)
}

// The defaults, at and just over each boundary, and what FormMeta reports.
func TestFormLimitsDefaults(t *testing.T) {
	app := New(Config{})
	ri := Post(app, "/up", readLimitsIn)
	srv := epServer(t, app)
	ct, body := multipartBody(t, nil, repeat("", DefaultFormMaxFiles))
	if r := epDo(t, srv, "POST", "/up", ct, body); r.status != 200 {
		t.Errorf("%d files: %d %.200s", DefaultFormMaxFiles, r.status, r.body)
	}
	ct, body = multipartBody(t, nil, repeat("", DefaultFormMaxFiles+1))
	check413(t, "one file over the default", epDo(t, srv, "POST", "/up", ct, body), fmt.Sprintf("more than %d files", DefaultFormMaxFiles))
	ct, body = multipartBody(t, repeat("tag=1", DefaultFormMaxFields), nil)
	if r := epDo(t, srv, "POST", "/up", ct, body); r.status != 200 {
		t.Errorf("%d fields: %d %.200s", DefaultFormMaxFields, r.status, r.body)
	}
	ct, body = multipartBody(t, repeat("tag=1", DefaultFormMaxFields+1), nil)
	check413(t, "one field over the default", epDo(t, srv, "POST", "/up", ct, body), fmt.Sprintf("more than %d fields", DefaultFormMaxFields))
	// Under the default body limit (1 MiB) the part size and memory
	// limits are that limit, not 32 MiB.
	fm := SignatureOf(ri).Form
	if fm.MaxFiles != 1000 || fm.MaxFields != 1000 || fm.MaxPartSize != DefaultBodyLimit || fm.MaxMemory != DefaultBodyLimit {
		t.Errorf("default FormMeta %+v", fm)
	}
	ct, body = multipartBody(t, []string{"note=" + strings.Repeat("n", DefaultBodyLimit-200)}, nil)
	if r := epDo(t, srv, "POST", "/up", ct, body); r.status != 200 {
		t.Errorf("a field just under the body limit: %d %.200s", r.status, r.body)
	}
}

func TestFormLimitsResolution(t *testing.T) {
	app := New(Config{})
	g := app.Group("/g", WithFormLimits(FormLimits{MaxFiles: 5, MaxFields: 50}), WithBodyLimit(64<<20))
	merged := Post(g, "/a", readLimitsIn, WithFormLimits(FormLimits{MaxFields: 7}))
	unlimited := Post(g, "/b", readLimitsIn, WithFormLimits(FormLimits{MaxFiles: -1, MaxPartSize: -1}))
	appWide := Post(app.Group("/", WithFormLimits(FormLimits{MaxFiles: 9})), "/c", readLimitsIn)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if fm := SignatureOf(merged).Form; fm.MaxFiles != 5 || fm.MaxFields != 7 || fm.MaxPartSize != DefaultFormMaxPartSize || fm.MaxMemory != DefaultFormMaxMemory {
		t.Errorf("merged FormMeta %+v", fm)
	}
	if fm := SignatureOf(appWide).Form; fm.MaxFiles != 9 || SignatureOf(appWide).Route != "/c" {
		t.Errorf("app-wide FormMeta %+v on %s", fm, SignatureOf(appWide).Route)
	}
	if fm := SignatureOf(unlimited).Form; fm.MaxFiles != math.MaxInt || fm.MaxFields != 50 || fm.MaxPartSize != 64<<20 {
		t.Errorf("unlimited FormMeta %+v", fm)
	}

	bad := New(Config{})
	Post(bad, "/json", func(context.Context, *struct{ Body struct{ N int } }) (*struct{}, error) { return nil, nil },
		WithFormLimits(FormLimits{MaxFiles: 1}))
	if err := bad.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "endpoint POST /json: WithFormLimits on an endpoint that reads no form") {
		t.Errorf("start error %v", err)
	}
}

// More files than one ReadForm takes (1000), interleaved with fields,
// some in memory and some on disk, each read back whole with its headers.
func TestFormManyFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	type in struct {
		Tags  []string                `form:"tag"`
		Files []*multipart.FileHeader `form:"file"`
	}
	app := New(Config{})
	Post(app, "/up", func(_ context.Context, in *in) (*okOut, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "%d tags;", len(in.Tags))
		for _, fh := range in.Files {
			f, err := fh.Open()
			if err != nil {
				return nil, err
			}
			c, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "%s=%s/%s;", fh.Filename, c, fh.Header.Get("Content-Type"))
		}
		return &okOut{Body: b.String()}, nil
	}, WithFormLimits(FormLimits{MaxFiles: -1, MaxFields: -1, MaxMemory: 4 << 10}))
	srv := epServer(t, app)
	var buf, want bytes.Buffer
	mw := multipart.NewWriter(&buf)
	const n = 1500
	fmt.Fprintf(&want, "%d tags;", n/10)
	for i := range n {
		if i%10 == 0 {
			_ = mw.WriteField("tag", fmt.Sprint(i))
		}
		fw, err := mw.CreateFormFile("file", fmt.Sprintf("f%d", i))
		if err != nil {
			t.Fatal(err)
		}
		// Framing-like bytes inside the content are data.
		c := fmt.Sprintf("%d\r\n--x\r\n%s", i, strings.Repeat("z", i%7))
		_, _ = fw.Write([]byte(c))
		fmt.Fprintf(&want, "f%d=%s/application/octet-stream;", i, c)
	}
	_ = mw.Close()
	r := epDo(t, srv, "POST", "/up", mw.FormDataContentType(), buf.String())
	if r.status != 200 || r.body != want.String() {
		t.Fatalf("%d files: %d %.300s", n, r.status, r.body)
	}
	waitNoTempFiles(t, tmp)
}
