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
//
// multipart.FileHeader keeps where its content is (memory or a temporary
// file) in unexported fields, so only mime/multipart can make one that
// Open reads. The field parts are read here; the file parts are passed
// on, re-framed under a random boundary their content cannot foresee, to
// Reader.ReadForm, which stores them: one ReadForm per maxPartsPerRead
// files, its own part limit.
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
	rf := &reframer{mr: mr, l: l, form: form, boundary: randomBoundary()}
	mem := l.mem
	for !rf.exhausted {
		rf.inRead, rf.ended = 0, false
		f, err := multipart.NewReader(rf, rf.boundary).ReadForm(mem)
		if err != nil {
			_ = form.RemoveAll()
			var he *HTTPError
			if errors.As(err, &he) {
				return he
			}
			return formError(err, l.bodyLimit)
		}
		for k, fhs := range f.File {
			form.File[k] = append(form.File[k], fhs...)
			for _, fh := range fhs {
				mem = max(mem-fh.Size, 0) // what the next ReadForm may hold
			}
		}
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

// maxPartsPerRead is the number of parts Reader.ReadForm accepts (1000,
// unless GODEBUG multipartmaxparts says otherwise).
const maxPartsPerRead = 1000

func randomBoundary() string {
	var rb [16]byte
	_, _ = rand.Read(rb[:])
	return hex.EncodeToString(rb[:])
}

// reframer is the body ReadForm reads: the file parts of the request's
// multipart body under its own boundary. Reading it reads the request's
// parts in order; field parts are checked and stored in form on the way,
// file parts counted and passed on.
type reframer struct {
	mr       *multipart.Reader
	l        *formLimits
	form     *multipart.Form
	boundary string

	files, fields int
	inRead        int             // file parts passed to the current ReadForm
	cur           *multipart.Part // file part being passed on
	held          *multipart.Part // file part kept for the next ReadForm
	pending       []byte          // framing still to emit (in frame)
	frame         []byte          // buffer of the framing, reused
	ended         bool            // the current ReadForm's stream is closed
	exhausted     bool            // the request's body has no more parts
}

func (rf *reframer) Read(b []byte) (int, error) {
	for {
		if len(rf.pending) > 0 {
			n := copy(b, rf.pending)
			rf.pending = rf.pending[n:]
			return n, nil
		}
		if rf.cur != nil {
			n, err := rf.cur.Read(b)
			if err == io.EOF {
				rf.cur, err = nil, nil
				rf.frame = append(rf.frame[:0], "\r\n"...)
				rf.pending = rf.frame
			}
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		if rf.ended {
			return 0, io.EOF
		}
		p, err := rf.nextFile()
		switch {
		case err != nil:
			return 0, err
		case p == nil:
			rf.exhausted = true
			rf.close()
		case rf.inRead == maxPartsPerRead:
			rf.held = p
			rf.close()
		default:
			rf.inRead++
			rf.cur = p
			f := append(append(append(rf.frame[:0], "--"...), rf.boundary...), "\r\n"...)
			for k, vs := range p.Header {
				for _, v := range vs {
					f = append(append(append(append(f, k...), ": "...), v...), "\r\n"...)
				}
			}
			rf.frame = append(f, "\r\n"...)
			rf.pending = rf.frame
		}
	}
}

// close ends the current ReadForm's stream.
func (rf *reframer) close() {
	rf.ended = true
	rf.frame = append(append(append(rf.frame[:0], "--"...), rf.boundary...), "--\r\n"...)
	rf.pending = rf.frame
}

// nextFile returns the next file part of the request (nil after the last),
// reading and storing the field parts before it.
func (rf *reframer) nextFile() (*multipart.Part, error) {
	if p := rf.held; p != nil {
		rf.held = nil
		return p, nil
	}
	l := rf.l
	for {
		p, err := rf.mr.NextPart()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		name, filename := p.FormName(), p.FileName()
		if name == "" || filename == "" {
			// A part without a name is skipped, as ReadForm does, but counted.
			if rf.fields++; rf.fields > l.fields {
				return nil, formTooLarge("the form has more than %d fields", l.fields)
			}
			if name == "" {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(p, l.partSize+1))
			if err != nil {
				return nil, err
			}
			if int64(len(b)) > l.partSize {
				return nil, formTooLarge("form field %q has more than %d bytes", name, l.partSize)
			}
			rf.form.Value[name] = append(rf.form.Value[name], string(b))
			continue
		}
		if rf.files++; rf.files > l.files {
			return nil, formTooLarge("the form has more than %d files", l.files)
		}
		return p, nil
	}
}
