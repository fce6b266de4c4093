package graft

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkFormMultipart: a typed endpoint reading 3 fields and 2 small
// files from a multipart body (files in memory).
func BenchmarkFormMultipart(b *testing.B) {
	type in struct {
		Name  string                  `form:"name"`
		Tags  []string                `form:"tag"`
		Files []*multipart.FileHeader `form:"file"`
	}
	app := New[Ctx](Config{})
	res := &struct{ Status int }{Status: 204}
	Post(app, "/up", func(_ context.Context, in *in) (*struct{ Status int }, error) { return res, nil })
	if err := app.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(context.Background())
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("name", "ada")
	_ = mw.WriteField("tag", "a")
	_ = mw.WriteField("tag", "b")
	for _, n := range []string{"a.txt", "b.txt"} {
		fw, _ := mw.CreateFormFile("file", n)
		_, _ = fw.Write([]byte(strings.Repeat("x", 512)))
	}
	_ = mw.Close()
	body, ct := buf.String(), mw.FormDataContentType()
	w := &nopWriter{h: make(map[string][]string)}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/up", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		app.ServeHTTP(w, r)
	}
}
