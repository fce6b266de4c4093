package graft

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type sseData struct {
	S   string  `json:"s"`
	O   string  `json:"o,omitempty"`
	I   int64   `json:"i"`
	U   uint8   `json:"u"`
	F   float64 `json:"f"`
	B   bool    `json:"b"`
	Sub struct {
		X float32 `json:"x"`
	} `json:"sub"`
}

// TestSSEDataMatchesEncodingJSON checks that each event's data line is
// what encoding/json writes, both for values the compiled plan writes
// (plain ASCII) and for those it leaves to encoding/json (escapes,
// non-ASCII, NaN refused).
func TestSSEDataMatchesEncodingJSON(t *testing.T) {
	vals := []sseData{{S: "plain", I: -3, U: 7, F: 1.5, B: true}, {S: "<b>&amp;</b>", O: "ö \u2028", F: 1e21},
		{S: "line\nbreak\r", I: 1 << 60, F: 2.5e-7}, {}}
	vals[0].Sub.X = 0.1
	app := New(Config{Logger: discardLogger()})
	SSE(app, "/d", func(_ context.Context, _ *struct{}, s *Stream[sseData]) error {
		for _, v := range vals {
			if err := s.Send(v); err != nil {
				return err
			}
		}
		return nil
	})
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/d", nil))
	var want strings.Builder
	for _, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString("data: " + string(b) + "\n\n")
	}
	if rec.Body.String() != want.String() {
		t.Errorf("stream\n%s\nwant\n%s", rec.Body, want.String())
	}
}

// TestSSEIDNameRefused checks that ids with CR, LF or NUL and names with
// CR or LF are refused, and that a NUL in a name is not.
func TestSSEIDNameRefused(t *testing.T) {
	app := New(Config{Logger: discardLogger()})
	SSE(app, "/e", func(_ context.Context, _ *struct{}, s *Stream[string]) error {
		for _, ev := range []Event[string]{{ID: "a\rb"}, {ID: "a\x00"}, {Name: "x\ny"}, {Name: "\r"}} {
			if err := s.SendEvent(ev); err == nil {
				return errors.New("event " + strings.ReplaceAll(ev.ID+ev.Name, "\x00", "NUL") + " was sent")
			}
		}
		return s.SendEvent(Event[string]{ID: "7", Name: "n\x00", Data: "d"})
	})
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/e", nil))
	if want := "id: 7\nevent: n\x00\ndata: d\n\n"; rec.Body.String() != want {
		t.Errorf("%d %q, want %q", rec.Code, rec.Body, want)
	}
}

type flushErrWriter struct {
	nopWriter
	n   int
	err error
}

func (w *flushErrWriter) FlushError() error { w.n++; return w.err }

type unwrapWriter struct{ http.ResponseWriter }

func (w unwrapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSSEFlusher checks that the flush found once per stream is the one
// http.ResponseController would call: FlushError before Flush, through
// Unwrap, and none (ErrNotSupported) for a writer without either.
func TestSSEFlusher(t *testing.T) {
	fe := &flushErrWriter{nopWriter: nopWriter{h: http.Header{}}}
	if err := flusher(unwrapWriter{fe}, http.NewResponseController(fe))(); err != nil || fe.n != 1 {
		t.Errorf("FlushError through Unwrap: err %v, %d calls", err, fe.n)
	}
	fe.err = errors.New("gone")
	if err := flusher(fe, nil)(); err != fe.err {
		t.Errorf("FlushError's error: %v", err)
	}
	fw := &flushWriter{nopWriter: nopWriter{h: http.Header{}}}
	if err := flusher(unwrapWriter{unwrapWriter{fw}}, nil)(); err != nil || fw.flushes != 1 {
		t.Errorf("Flush through two Unwraps: err %v, %d flushes", err, fw.flushes)
	}
	nw := &nopWriter{h: http.Header{}}
	if err := flusher(nw, http.NewResponseController(nw))(); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("writer without flush: %v, want ErrNotSupported", err)
	}
	// A stream on such a writer still sends its events.
	app := New(Config{Logger: discardLogger()})
	SSE(app, "/s", func(_ context.Context, _ *struct{}, s *Stream[string]) error { return s.Send("x") })
	w := &keepWriter{h: http.Header{}}
	app.ServeHTTP(w, httptest.NewRequest("GET", "/s", nil))
	if string(w.body) != "data: x\n\n" {
		t.Errorf("stream on a writer without flush: %q", w.body)
	}
}
