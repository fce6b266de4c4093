package graft

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
)

// HTTPError is an error that carries the HTTP status to answer with. Return
// one from a handler to choose the response; the default error handler writes
// it as RFC 9457 problem+json.
type HTTPError struct {
	// Status is the HTTP status code, e.g. 404.
	Status int
	// Title is a short summary; it defaults to the status text.
	Title string
	// Detail explains this occurrence to the client.
	Detail string
	// Type is a URI naming the problem type; empty means "about:blank".
	Type string
	// Errors lists field-level problems (validation), if any.
	Errors []FieldError
	// ErrorsTruncated reports that Errors was cut: the request had more
	// failing fields than one answer lists (graft lists at most 100).
	ErrorsTruncated bool
	// Header holds extra response headers, e.g. Allow or WWW-Authenticate.
	Header http.Header
	// Err is the underlying cause, logged but never sent to the client.
	Err error
}

// FieldError is one failing input field of a request.
type FieldError struct {
	// Location names the field, e.g. "body.age" or "query.limit".
	Location string `json:"location"`
	// Message says what is wrong with it.
	Message string `json:"message"`
	// Value is the offending value, when it is safe to echo.
	Value any `json:"value,omitempty"`
}

// NewError returns an HTTPError with the given status and detail.
func NewError(status int, detail string) *HTTPError {
	return &HTTPError{Status: status, Detail: detail}
}

// Errorf returns an HTTPError with the given status and a formatted detail.
func Errorf(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Detail: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *HTTPError) Error() string {
	msg := strconv.Itoa(e.Status) + " " + e.title()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *HTTPError) Unwrap() error { return e.Err }

func (e *HTTPError) title() string {
	if e.Title != "" {
		return e.Title
	}
	if t := http.StatusText(e.Status); t != "" {
		return t
	}
	return "Error"
}

// Problem is the RFC 9457 problem details document written for errors.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// ErrorsTruncated is true when the request had more failing fields
	// than Errors lists.
	ErrorsTruncated bool `json:"errorsTruncated,omitempty"`
}

// Problem converts the error to its problem details document.
func (e *HTTPError) Problem(instance string) Problem {
	t := e.Type
	if t == "" {
		t = "about:blank"
	}
	return Problem{Type: t, Title: e.title(), Status: e.Status, Detail: e.Detail, Instance: instance, Errors: e.Errors, ErrorsTruncated: e.ErrorsTruncated}
}

// ErrorHandler turns an error returned by a handler (or a recovered panic)
// into a response. Replace it with Config.ErrorHandler.
type ErrorHandler func(c *Ctx, err error)

// AsHTTPError returns err as an *HTTPError: itself if it is one (or wraps
// one), a 413 for a body over its limit, else a 500 wrapping err.
func AsHTTPError(err error) *HTTPError {
	he, ok := err.(*HTTPError)
	if !ok {
		he = wrappedHTTPError(err)
	}
	if he != nil {
		if he.Status < 100 || he.Status > 999 {
			// net/http panics on such a status; answer 500 instead,
			// without touching a value that may be shared.
			cp := *he
			cp.Status = http.StatusInternalServerError
			return &cp
		}
		return he
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit), Err: err}
	}
	return &HTTPError{Status: http.StatusInternalServerError, Err: err}
}

// wrappedHTTPError returns the *HTTPError err wraps, or nil: errors.As
// with a target of its own, so that the common case (err is one) does not
// move a target to the heap.
func wrappedHTTPError(err error) *HTTPError {
	var he *HTTPError
	if errors.As(err, &he) {
		return he
	}
	return nil
}

// isPanic reports whether err is or wraps a PanicError.
func isPanic(err error) bool {
	var pe PanicError
	return errors.As(err, &pe)
}

// DefaultErrorHandler writes err as application/problem+json and logs
// server errors (5xx) with the route through the app's logger. If the
// response has already started it only logs.
func DefaultErrorHandler(c *Ctx, err error) {
	he := AsHTTPError(err)
	if he.Status >= 500 && !isPanic(err) { // panics were logged with their stack
		c.Logger().Error("graft: handler error", "method", c.Request.Method, "route", c.RoutePattern(), "path", c.Request.URL.Path, "status", he.Status, "err", err)
	}
	if c.Written() {
		return
	}
	if cd := c.codecTable(); cd.customJSON {
		writeProblem(c.Response(), he, c.Request.URL.Path, c, cd.jsonEnc)
		return
	}
	WriteProblem(c.Response(), he, c.Request.URL.Path)
}

// WriteProblem writes he as an RFC 9457 problem+json response to w.
func WriteProblem(w http.ResponseWriter, he *HTTPError, instance string) {
	writeProblem(w, he, instance, nil, nil)
}

// writeProblem is WriteProblem encoding the document with enc (the scope's
// JSON encoder, given the request c) or, when enc is nil, encoding/json.
func writeProblem(w http.ResponseWriter, he *HTTPError, instance string, c *Ctx, enc RequestEncodeFunc) {
	h := w.Header()
	for k, vs := range he.Header {
		h[k] = vs
	}
	// Shared values, as for the other answers (ctx.go): net/http only
	// reads them.
	h["Content-Type"] = problemJSON
	h["X-Content-Type-Options"] = noSniff
	h.Del("Content-Length")
	if he.Status < 100 || he.Status > 999 {
		he = AsHTTPError(he)
	}
	var body []byte
	var err error
	if enc != nil {
		body, err = enc(c, he.Problem(instance))
	} else {
		// The document is written into a pooled buffer by appendProblem,
		// which writes what json.Marshal would; encoding/json takes the
		// values appendProblem does not write itself.
		e := jsonEncPool.Get().(*jsonEnc)
		defer e.release()
		p := he.Problem(instance)
		if out, ok := appendProblem(e.buf.AvailableBuffer(), &p); ok {
			e.buf.Write(out) // in place when it fit
			body = e.buf.Bytes()
		} else {
			body, err = json.Marshal(p)
		}
	}
	if err != nil {
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
		he = &HTTPError{Status: http.StatusInternalServerError}
	}
	w.WriteHeader(he.Status)
	_, _ = w.Write(body)
}

var (
	problemJSON = []string{"application/problem+json"}
	noSniff     = []string{"nosniff"}
)

// logPanic records a recovered panic with its stack.
func logPanic(l *slog.Logger, method, route, path string, v any, stack []byte) {
	l.Error("graft: panic in handler", "method", method, "route", route, "path", path, "panic", fmt.Sprint(v), "stack", string(stack))
}

// PanicHandler handles a panic recovered while serving a request, in place
// of graft's default (a log record with the route and stack, then a 500
// through the error handler): Config.PanicHandler for the whole app,
// Signature.OnPanic for one typed endpoint (a plugin's, e.g.
// plugins/recover). v is the value panicked with and stack the stack of
// the goroutine where it panicked (for a dependency provider's panic, the
// provider's, as package di recorded it).
//
// graft recovers every panic itself, so request-time code never crashes
// the process, and calls h for all but http.ErrAbortHandler, which goes on
// up to net/http (it aborts the connection without a log). The error h
// returns is answered by the app's error handler (unless the answer has
// started); nil means h answered, and graft writes a 500 status if h wrote
// nothing. h may panic(http.ErrAbortHandler) to abort the connection, e.g.
// after a partial answer, as net/http does with a panicking handler. Any
// other panic in h is logged and the default answers the first panic.
type PanicHandler func(c *Ctx, v any, stack []byte) error

// PanicError is the error an error handler receives for a handler that
// panicked; the panic was already logged with its stack.
type PanicError struct {
	// Value is what the handler panicked with.
	Value any
}

// Error implements error.
func (e PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }
