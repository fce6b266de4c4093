package graft

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strings"
)

// FormLimits bounds what a typed endpoint reads from a form body
// (application/x-www-form-urlencoded or multipart/form-data), on top of
// the body limit. A zero field means its default; a negative one means no
// limit of that kind (the body limit still applies). Going over a limit
// answers 413 with a problem+json detail that names the limit.
//
// Set them per endpoint or per group with WithFormLimits; the signature's
// FormMeta reports the limits in force.
type FormLimits struct {
	// MaxFiles bounds the number of files (parts with a filename);
	// default DefaultFormMaxFiles.
	MaxFiles int
	// MaxFields bounds the number of fields that are not files: the
	// multipart parts without a filename, or the pairs of an urlencoded
	// body; default DefaultFormMaxFields.
	MaxFields int
	// MaxPartSize bounds the bytes of one field's value (not of a file:
	// files are bounded by the body limit); default DefaultFormMaxPartSize,
	// and never more than the body limit.
	MaxPartSize int64
	// MaxMemory bounds the bytes of file contents held in memory; the
	// files past it go to temporary files, removed when the request
	// ends. Default DefaultFormMaxMemory, and never more than the body
	// limit.
	MaxMemory int64
}

// Defaults of FormLimits, those of lihil's (starlette's) form parser for
// files, fields and part size.
const (
	DefaultFormMaxFiles    = 1000
	DefaultFormMaxFields   = 1000
	DefaultFormMaxPartSize = 1 << 20
	DefaultFormMaxMemory   = 32 << 20
)

// WithFormLimits sets the form limits of a group's typed endpoints or of
// one typed endpoint. Fields left zero are taken from the nearest group
// that sets them, else from the defaults. On a single endpoint that reads
// no form it is a setup error.
//
//	graft.Post(app, "/avatar", upload, graft.WithFormLimits(graft.FormLimits{MaxFiles: 1, MaxFields: 4}))
func WithFormLimits(l FormLimits) Option {
	return func(s *settings) { s.formLimits = &l }
}

// formLimits are the resolved limits of an endpoint, each > 0.
type formLimits struct {
	files, fields int
	partSize, mem int64
	bodyLimit     int64
}

// resolveFormLimits merges the route's FormLimits with its groups',
// nearest first, and applies the defaults and the body limit.
func resolveFormLimits(rt *route, appLimit int64) formLimits {
	var l FormLimits
	merge := func(s *settings) {
		if s.formLimits == nil {
			return
		}
		o := s.formLimits
		l.MaxFiles = cmpOr(l.MaxFiles, o.MaxFiles)
		l.MaxFields = cmpOr(l.MaxFields, o.MaxFields)
		l.MaxPartSize = cmpOr(l.MaxPartSize, o.MaxPartSize)
		l.MaxMemory = cmpOr(l.MaxMemory, o.MaxMemory)
	}
	merge(&rt.settings)
	body := rt.bodyLimit
	for s := rt.sc; s != nil; s = s.parent {
		merge(&s.settings)
		if body == 0 {
			body = s.bodyLimit
		}
	}
	if body == 0 {
		body = appLimit
	}
	if body < 0 {
		body = math.MaxInt64
	}
	count := func(v, def int) int {
		switch {
		case v < 0:
			return math.MaxInt
		case v == 0:
			return def
		}
		return v
	}
	size := func(v, def int64) int64 {
		switch {
		case v < 0:
			return body
		case v == 0:
			v = def
		}
		return min(v, body)
	}
	return formLimits{
		files:     count(l.MaxFiles, DefaultFormMaxFiles),
		fields:    count(l.MaxFields, DefaultFormMaxFields),
		partSize:  size(l.MaxPartSize, DefaultFormMaxPartSize),
		mem:       size(l.MaxMemory, DefaultFormMaxMemory),
		bodyLimit: body,
	}
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// report writes the limits in force into the signature's form metadata.
func (l *formLimits) report(fm *FormMeta) {
	fm.MaxFiles, fm.MaxFields, fm.MaxPartSize, fm.MaxMemory = l.files, l.fields, l.partSize, l.mem
}

func formTooLarge(format string, args ...any) error {
	return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf(format, args...) + " (the endpoint's form limit; see graft.WithFormLimits)"}
}

// checkURLEncoded applies the field limits to a parsed urlencoded form.
func (l *formLimits) checkURLEncoded(r *http.Request) error {
	n := 0
	for k, vs := range r.PostForm {
		n += len(vs)
		for _, v := range vs {
			if int64(len(v)) > l.partSize {
				return formTooLarge("form field %q has more than %d bytes", k, l.partSize)
			}
		}
	}
	if n > l.fields {
		return formTooLarge("the form has more than %d fields", l.fields)
	}
	return nil
}

// parseMultipart reads a multipart/form-data body part by part, so that
// each limit stops the read as soon as it is passed, and fills
// r.MultipartForm, r.PostForm and r.Form as Request.ParseMultipartForm
// does. The server removes the temporary files when the request ends.
func (l *formLimits) parseMultipart(r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return &HTTPError{Status: http.StatusBadRequest, Detail: "malformed form body: " + err.Error(), Err: err}
	}
	if err := r.ParseForm(); err != nil { // the URL's query; the body is not read
		return &HTTPError{Status: http.StatusBadRequest, Detail: "malformed query: " + err.Error(), Err: err}
	}
	form := &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}
	r.MultipartForm = form
	mem, files, fields := l.mem, 0, 0
	fail := func(err error) error {
		_ = form.RemoveAll()
		return err
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(formError(err, l.bodyLimit))
		}
		name, filename := p.FormName(), p.FileName()
		if name == "" { // skipped, as ReadForm does, but counted
			if fields++; fields > l.fields {
				return fail(formTooLarge("the form has more than %d fields", l.fields))
			}
			continue
		}
		if filename == "" {
			if fields++; fields > l.fields {
				return fail(formTooLarge("the form has more than %d fields", l.fields))
			}
			b, err := io.ReadAll(io.LimitReader(p, l.partSize+1))
			if err != nil {
				return fail(formError(err, l.bodyLimit))
			}
			if int64(len(b)) > l.partSize {
				return fail(formTooLarge("form field %q has more than %d bytes", name, l.partSize))
			}
			form.Value[name] = append(form.Value[name], string(b))
			continue
		}
		if files++; files > l.files {
			return fail(formTooLarge("the form has more than %d files", l.files))
		}
		fh, err := readFilePart(p, mem)
		if err != nil {
			return fail(formError(err, l.bodyLimit))
		}
		if fh.Size <= mem { // held in memory (ReadForm's rule)
			mem -= fh.Size
		}
		form.File[name] = append(form.File[name], fh)
	}
	if r.PostForm == nil {
		r.PostForm = make(map[string][]string, len(form.Value))
	}
	for k, vs := range form.Value {
		r.Form[k] = append(r.Form[k], vs...)
		r.PostForm[k] = append(r.PostForm[k], vs...)
	}
	return nil
}

// readFilePart stores one file part in memory (up to mem bytes) or in a
// temporary file. multipart.FileHeader keeps where its content is in
// unexported fields, so only mime/multipart can make one that Open reads:
// the part is streamed through Reader.ReadForm as a one-part form under a
// random boundary its content cannot foresee.
func readFilePart(p *multipart.Part, mem int64) (*multipart.FileHeader, error) {
	var rb [16]byte
	_, _ = rand.Read(rb[:])
	boundary := hex.EncodeToString(rb[:])
	var head strings.Builder
	head.WriteString("--" + boundary + "\r\n")
	for k, vs := range p.Header {
		for _, v := range vs {
			head.WriteString(k + ": " + v + "\r\n")
		}
	}
	head.WriteString("\r\n")
	body := io.MultiReader(strings.NewReader(head.String()), p, strings.NewReader("\r\n--"+boundary+"--\r\n"))
	f, err := multipart.NewReader(body, boundary).ReadForm(mem)
	if err != nil {
		return nil, err
	}
	for _, fhs := range f.File {
		if len(fhs) == 1 {
			return fhs[0], nil
		}
	}
	_ = f.RemoveAll()
	return nil, errors.New("multipart: a file part did not read back as one file")
}
