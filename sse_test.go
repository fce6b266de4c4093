package graft

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

// sseEvent is one event as a client parses it (the WHATWG rules).
type sseEvent struct {
	id, name, data string
	retry          string
}

// sseClient reads an event stream from a real connection.
type sseClient struct {
	t        *testing.T
	res      *http.Response
	r        *bufio.Reader
	cancel   context.CancelFunc
	comments chan string
	events   chan sseEvent // closed when the stream ends
	err      error         // why it ended (io.EOF: the server ended it), set before events is closed
}

// dialSSE opens a stream at url with the headers hdr (name, value…) and
// parses it in the background.
func dialSSE(t *testing.T, url string, hdr ...string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := &sseClient{t: t, res: res, r: bufio.NewReader(res.Body), cancel: cancel,
		comments: make(chan string, 100), events: make(chan sseEvent, 1000)}
	t.Cleanup(c.close)
	go c.loop()
	return c
}

func (c *sseClient) loop() {
	var ev sseEvent
	var data []string
	hasData := false
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.err = err
			close(c.events)
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if hasData {
				ev.data = strings.Join(data, "\n")
				c.events <- ev
			}
			ev, data, hasData = sseEvent{}, nil, false
		case strings.HasPrefix(line, ":"):
			select { // a test that does not read comments must not block the stream
			case c.comments <- strings.TrimPrefix(line[1:], " "):
			default:
			}
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				ev.id = v
			case "event":
				ev.name = v
			case "retry":
				ev.retry = v
			case "data":
				data, hasData = append(data, v), true
			}
		}
	}
}

// next returns the next event, failing after 5 s.
func (c *sseClient) next() sseEvent {
	c.t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			c.t.Fatalf("the stream ended (%v) while waiting for an event", c.err)
		}
		return ev
	case <-time.After(5 * time.Second):
		c.t.Fatal("no event within 5s")
	}
	return sseEvent{}
}

// end waits for the server to end the stream.
func (c *sseClient) end() {
	c.t.Helper()
	select {
	case ev, ok := <-c.events:
		if ok {
			c.t.Fatalf("event %+v where the stream should end", ev)
		}
		if c.err != io.EOF {
			c.t.Fatalf("the stream ended with %v, want EOF", c.err)
		}
	case <-time.After(5 * time.Second):
		c.t.Fatal("the stream did not end within 5s")
	}
}

// close disconnects.
func (c *sseClient) close() {
	c.cancel()
	c.res.Body.Close()
}

// waitFor waits for a handler to report it returned.
func waitFor(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen within 5s", what)
	}
	return nil
}

type tick struct {
	N    int    `json:"n"`
	Note string `json:"note,omitempty"`
}

type feedIn struct {
	Topic  string `path:"topic" minLength:"2"`
	LastID string `header:"Last-Event-ID"`
	From   int    `query:"from"`
	Bus    *busT  `plugin:""`
}

func TestSSEEvents(t *testing.T) {
	app := New(Config{})
	fill := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		bus := PluginField[*busT](sig)
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			bus.Set(in, &busT{events: []string{"from the plugin"}})
			return next(ctx, c, in)
		}, nil
	})
	ri := SSE(app, "/feed/{topic}", func(ctx context.Context, in *feedIn, s *Stream[tick]) error {
		if err := s.SendEvent(Event[tick]{ID: in.Topic + "-1", Name: "hello", Retry: 1500 * time.Millisecond,
			Data: tick{N: in.From, Note: in.LastID + "|" + s.LastEventID() + "|" + in.Bus.events[0]}}); err != nil {
			return err
		}
		for i := 1; i <= 3; i++ {
			if err := s.Send(tick{N: in.From + i, Note: "line\nbreak"}); err != nil {
				return err
			}
		}
		return nil
	}, Plugins(fill))
	srv := epServer(t, app)
	c := dialSSE(t, srv.URL+"/feed/news?from=10", "Last-Event-ID", "news-0")
	h := c.res.Header
	if c.res.StatusCode != 200 || h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("%d %v", c.res.StatusCode, h)
	}
	if ev := c.next(); ev != (sseEvent{id: "news-1", name: "hello", retry: "1500", data: `{"n":10,"note":"news-0|news-0|from the plugin"}`}) {
		t.Errorf("first event %+v", ev)
	}
	for i := 1; i <= 3; i++ {
		if ev := c.next(); ev != (sseEvent{data: fmt.Sprintf(`{"n":%d,"note":"line\nbreak"}`, 10+i)}) {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	c.end()

	sig := SignatureOf(ri)
	want := Return{Status: 200, Type: reflect.TypeFor[tick](), MediaType: "text/event-stream", Encoder: "sse", Description: "a stream of server-sent events"}
	if got := sig.Returns[0]; !reflect.DeepEqual(got, want) || sig.Out != reflect.TypeFor[Stream[tick]]() || sig.Method != "GET" {
		t.Errorf("signature: %+v out %v", got, sig.Out)
	}
	if len(sig.HeaderParams) != 1 || sig.HeaderParams[0].Name != "Last-Event-ID" {
		t.Errorf("header params %+v", sig.HeaderParams)
	}
}

// String and []byte events are sent as they are, one data line per line.
func TestSSETextEvents(t *testing.T) {
	app := New(Config{})
	SSE(app, "/text", func(_ context.Context, _ *struct{}, s *Stream[string]) error {
		for _, d := range []string{"one", "two\nlines", "cr\r\ncrlf\rcr", ""} {
			if err := s.Send(d); err != nil {
				return err
			}
		}
		if err := s.SendEvent(Event[string]{ID: "bad\nid", Data: "x"}); err == nil || !strings.Contains(err.Error(), "line break") {
			return fmt.Errorf("an id with a line break was not refused: %v", err)
		}
		return s.SendEvent(Event[string]{Name: "last", Data: "end"})
	})
	SSE(app, "/bytes", func(_ context.Context, _ *struct{}, s *Stream[[]byte]) error {
		return s.Send([]byte("raw\nbytes"))
	})
	srv := epServer(t, app)
	c := dialSSE(t, srv.URL+"/text")
	for _, want := range []sseEvent{{data: "one"}, {data: "two\nlines"}, {data: "cr\ncrlf\ncr"}, {data: ""}, {name: "last", data: "end"}} {
		if ev := c.next(); ev != want {
			t.Errorf("got %+v want %+v", ev, want)
		}
	}
	c.end()
	c = dialSSE(t, srv.URL+"/bytes")
	if ev := c.next(); ev.data != "raw\nbytes" {
		t.Errorf("bytes event %+v", ev)
	}
	c.end()
}

// A client that goes away ends the handler: its ctx is cancelled and Send
// fails; the keep-alive comments come on the interval while it is silent.
func TestSSEDisconnectAndKeepAlive(t *testing.T) {
	app := New(Config{})
	returned := make(chan error, 1)
	sendErr := make(chan error, 1)
	SSE(app, "/wait", func(ctx context.Context, _ *struct{}, s *Stream[tick]) error {
		if err := s.Send(tick{N: 1}); err != nil {
			return err
		}
		<-ctx.Done()
		sendErr <- s.Send(tick{N: 2})
		returned <- ctx.Err()
		return ctx.Err()
	}, WithStreamKeepAlive(20*time.Millisecond))
	busy := make(chan error, 1)
	SSE(app, "/busy", func(ctx context.Context, _ *struct{}, s *Stream[tick]) error {
		for i := 0; ; i++ {
			if err := s.Send(tick{N: i}); err != nil {
				busy <- err
				return err
			}
			time.Sleep(time.Millisecond)
		}
	})
	srv := epServer(t, app)

	c := dialSSE(t, srv.URL+"/wait")
	if ev := c.next(); ev.data != `{"n":1}` {
		t.Fatalf("event %+v", ev)
	}
	for range 2 {
		select {
		case cm := <-c.comments:
			if cm != "keep-alive" {
				t.Fatalf("comment %q", cm)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no keep-alive comment within 5s")
		}
	}
	c.close()
	if err := waitFor(t, returned, "the handler returning after the client disconnected"); !errors.Is(err, context.Canceled) {
		t.Errorf("ctx error %v", err)
	}
	if err := waitFor(t, sendErr, "Send after the disconnect"); !errors.Is(err, context.Canceled) {
		t.Errorf("Send after the disconnect: %v", err)
	}

	c = dialSSE(t, srv.URL+"/busy")
	for range 5 {
		c.next()
	}
	c.close()
	if err := waitFor(t, busy, "the sending handler returning after the client disconnected"); err == nil {
		t.Error("Send kept succeeding after the disconnect")
	}
}

// Until the stream opens the handler still chooses the answer: an error,
// a declared outcome, the binder's 422; a handler that sends nothing
// answers an empty stream.
func TestSSEBeforeOpen(t *testing.T) {
	app, logs := newApp(t, Config{})
	SSE(app, "/feed/{topic}", func(_ context.Context, in *feedIn, s *Stream[tick]) error {
		switch in.Topic {
		case "missing":
			return NewError(http.StatusNotFound, "no such topic")
		case "busy":
			return Respond(http.StatusConflict, conflict{Reason: "full"})
		case "empty":
			return nil
		case "opened":
			if err := s.Open(); err != nil {
				return err
			}
			return errors.New("failed after opening")
		}
		if err := s.Send(tick{N: 1}); err != nil {
			return err
		}
		return errors.New("failed mid-stream")
	}, Responds[conflict](http.StatusConflict, "the topic is full"), Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		bus := PluginField[*busT](sig)
		return func(ctx context.Context, c *Ctx, in any) (any, error) { bus.Set(in, &busT{}); return next(ctx, c, in) }, nil
	})))
	srv := epServer(t, app)
	for _, tc := range []struct {
		path, ctype, body string
		status            int
	}{
		{"/feed/missing", mediaProblem, `"detail":"no such topic"`, 404},
		{"/feed/busy", mediaJSON, `{"current":0,"reason":"full"}`, 409},
		{"/feed/x", mediaProblem, `"location":"path.topic"`, 422},
		{"/feed/empty", "text/event-stream", "", 200},
		{"/feed/opened", "text/event-stream", "", 200},
		{"/feed/mid", "text/event-stream", "data: {\"n\":1}\n\n", 200},
	} {
		r := epDo(t, srv, "GET", tc.path, "", "")
		if r.status != tc.status || r.header.Get("Content-Type") != tc.ctype || (tc.body == "" && r.body != "") || !strings.Contains(r.body, tc.body) {
			t.Errorf("%s: %d %q %q", tc.path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if l := logs.String(); !containsAll(l, "route=/feed/{topic}", "failed mid-stream", "failed after opening") {
		t.Errorf("errors after the stream opened are not logged with the route:\n%s", l)
	}
	// HEAD answers the headers without running the handler.
	r := epDo(t, srv, "HEAD", "/feed/mid", "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD: %d %v", r.status, r.header)
	}
}

// Stopping the app ends its streams: handlers waiting on ctx return.
func TestSSEEndsAtStop(t *testing.T) {
	app := New(Config{})
	returned := make(chan error, 1)
	SSE(app, "/wait", func(ctx context.Context, _ *struct{}, s *Stream[string]) error {
		if err := s.Send("hi"); err != nil {
			return err
		}
		<-ctx.Done()
		returned <- ctx.Err()
		return nil
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := dialSSE(t, srv.URL+"/wait")
	c.next()
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, returned, "the handler returning at Stop"); !errors.Is(err, context.Canceled) {
		t.Errorf("ctx error %v", err)
	}
	c.end()
}

// Send is safe from several goroutines and alongside the keep-alive.
func TestSSEConcurrentSend(t *testing.T) {
	app := New(Config{})
	SSE(app, "/many", func(_ context.Context, _ *struct{}, s *Stream[tick]) error {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := range 4 {
			wg.Go(func() {
				for i := range 50 {
					if err := s.Send(tick{N: g*100 + i}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}, WithStreamKeepAlive(time.Millisecond))
	srv := epServer(t, app)
	c := dialSSE(t, srv.URL+"/many")
	seen := map[string]bool{}
	for range 200 {
		seen[c.next().data] = true
	}
	c.end()
	if len(seen) != 200 {
		t.Errorf("%d distinct events, want 200", len(seen))
	}
}

func TestSSESetupMistakes(t *testing.T) {
	app := New(Config{})
	if msg := mustPanic(t, func() { SSE[struct{}, string](app, "/a", nil) }); !strings.Contains(msg, "endpoint GET /a: handler is nil") {
		t.Error(msg)
	}
	h := func(context.Context, *struct{}, *Stream[func()]) error { return nil }
	if msg := mustPanic(t, func() { SSE(app, "/b", h) }); !strings.Contains(msg, "endpoint GET /b: event type func() cannot be encoded") {
		t.Error(msg)
	}
	if msg := mustPanic(t, func() {
		SSE(app, "/any", func(context.Context, *struct{}, *Stream[any]) error { return nil })
	}); !strings.Contains(msg, "endpoint GET /any: event type interface {} is an interface") {
		t.Error(msg)
	}
	type in struct {
		ID int `path:"nope"`
	}
	if msg := mustPanic(t, func() {
		SSE(app, "/c", func(context.Context, *in, *Stream[string]) error { return nil })
	}); !strings.Contains(msg, "endpoint GET /c") {
		t.Error(msg)
	}
	if msg := mustPanic(t, func() {
		Get(app, "/d", func(context.Context, *struct{}) (*okOut, error) { return nil, nil }, WithStreamKeepAlive(time.Second))
	}); !strings.Contains(msg, "endpoint GET /d: graft.WithStreamKeepAlive applies to graft.SSE endpoints") {
		t.Error(msg)
	}
	if msg := mustPanic(t, func() { app.GET("/e", text("x"), WithStreamKeepAlive(time.Second)) }); !strings.Contains(msg, "route GET /e: graft.WithStreamKeepAlive applies to graft.SSE") {
		t.Error(msg)
	}
}

// A stream outlives Config.WriteTimeout, which bounds ordinary answers.
func TestSSEOutlivesWriteTimeout(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, WriteTimeout: 100 * time.Millisecond})
	SSE(app, "/slow", func(ctx context.Context, _ *struct{}, s *Stream[int]) error {
		for i := range 6 {
			if err := s.Send(i); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		}
		return nil
	})
	c := dialSSE(t, "http://"+startApp(t, app)+"/slow")
	for i := range 6 {
		if ev := c.next(); ev.data != strconv.Itoa(i) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	c.end()
}

// Each event reaches the client before the handler sends the next one,
// over HTTP/1.1 and HTTP/2: the handler waits for the client to have seen
// the first event before it sends the second.
func TestSSEFlushesEachEvent(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			app := New(Config{})
			seen := make(chan struct{})
			SSE(app, "/step", func(ctx context.Context, _ *struct{}, s *Stream[string]) error {
				if err := s.Send("first"); err != nil {
					return err
				}
				select {
				case <-seen:
				case <-ctx.Done():
					return nil
				case <-time.After(5 * time.Second):
					return errors.New("the client did not see the first event within 5s: it was not flushed")
				}
				return s.Send("second")
			}, WithStreamKeepAlive(0))
			srv := httptest.NewUnstartedServer(app)
			srv.EnableHTTP2 = h2
			if h2 {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/step", nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if want := map[bool]int{false: 1, true: 2}[h2]; res.ProtoMajor != want {
				t.Fatalf("HTTP/%d, want HTTP/%d", res.ProtoMajor, want)
			}
			r := bufio.NewReader(res.Body)
			read := func() string {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("reading the stream: %v", err)
				}
				_, _ = r.ReadString('\n') // the blank line ending the event
				return line
			}
			if l := read(); l != "data: first\n" {
				t.Fatalf("first: %q", l)
			}
			close(seen)
			if l := read(); l != "data: second\n" {
				t.Fatalf("second: %q", l)
			}
		})
	}
}

// TestSSEShortKeepAlive: a keep-alive timer that fires before the stream
// stored it (a tiny interval on a busy machine) used to read a nil timer
// in its own goroutine and crash the process.
func TestSSEShortKeepAlive(t *testing.T) {
	app := New(Config{})
	SSE(app, "/tick", func(ctx context.Context, _ *struct{}, s *Stream[string]) error {
		if err := s.Send("go"); err != nil {
			return err
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	}, WithStreamKeepAlive(time.Nanosecond))
	srv := epServer(t, app)
	for range 50 {
		c := dialSSE(t, srv.URL+"/tick")
		if ev := c.next(); ev.data != "go" {
			t.Fatalf("first event %+v", ev)
		}
		c.end()
	}
}
