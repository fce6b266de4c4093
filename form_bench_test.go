package graft

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkFormMultipart: a typed endpoint reading 3 fields and 2 or 100
// files of 512 bytes from a multipart body (files in memory).
func BenchmarkFormMultipart(b *testing.B) {
	for _, files := range []int{2, 100} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) { benchFormMultipart(b, files) })
	}
}

func benchFormMultipart(b *testing.B, files int) {
	type in struct {
		Name  string                  `form:"name"`
		Tags  []string                `form:"tag"`
		Files []*multipart.FileHeader `form:"file"`
	}
	app := New(Config{})
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
	for i := range files {
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("f%d.txt", i))
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
