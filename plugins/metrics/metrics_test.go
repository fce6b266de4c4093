package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/metrics"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type userIn struct {
	ID int `path:"id" min:"1"`
}

type userOut struct {
	Body struct {
		ID int `json:"id"`
	}
}

// start starts app on a loopback listener and stops it when the test ends.
func start(t *testing.T, app *graft.App[graft.Ctx]) string {
	t.Helper()
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx) // closes WebSockets with 1001
		srv.Close()
	})
	return srv.URL
}

func get(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// scrape fetches /metrics over TCP and parses the text exposition.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels are exactly want
// (label=value pairs), or nil.
func find(fams map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.Metric {
		var got []string
		for _, l := range m.Label {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if slices.Equal(got, w) {
			return m
		}
	}
	return nil
}

// TestRequestMetrics: every answer is counted in the
// http_server_request_duration_seconds histogram under its method, route
// pattern and final status (a typed 422, a panic's 500, the router's 404
// and 405 included), with the conventions' buckets; unknown methods are
// _OTHER.
func TestRequestMetrics(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(metrics.New(metrics.Config{}))
	app.GET("/hello", func(c *graft.Ctx) error { return c.Text(200, "hello") })
	app.GET("/boom", func(c *graft.Ctx) error { panic("boom") })
	graft.Get(app, "/users/{id}", func(_ context.Context, in *userIn) (*userOut, error) { return &userOut{}, nil })
	base := start(t, app)

	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/hello", 200}, {"GET", "/hello", 200}, {"GET", "/users/3", 200}, {"GET", "/users/0", 422},
		{"GET", "/boom", 500}, {"GET", "/nowhere", 404}, {"POST", "/hello", 405}, {"PURGE", "/hello", 405},
	} {
		if got := get(t, r.method, base+r.path); got != r.status {
			t.Fatalf("%s %s: %d, want %d", r.method, r.path, got, r.status)
		}
	}
	fams := scrape(t, base)
	f := fams["http_server_request_duration_seconds"]
	if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("no histogram http_server_request_duration_seconds in %v", keys(fams))
	}
	for _, want := range []struct {
		method, route, status string
		count                 uint64
	}{
		{"GET", "/hello", "200", 2}, {"GET", "/users/{id}", "200", 1}, {"GET", "/users/{id}", "422", 1},
		{"GET", "/boom", "500", 1}, {"GET", "", "404", 1}, {"POST", "", "405", 1}, {"_OTHER", "", "405", 1},
	} {
		m := find(fams, "http_server_request_duration_seconds", "http_request_method="+want.method, "http_route="+want.route, "http_response_status_code="+want.status)
		if m == nil {
			t.Errorf("no series for %+v", want)
			continue
		}
		h := m.GetHistogram()
		if h.GetSampleCount() != want.count || h.GetSampleSum() <= 0 {
			t.Errorf("%+v: count %d sum %v", want, h.GetSampleCount(), h.GetSampleSum())
		}
		var bounds []float64
		for _, b := range h.Bucket {
			bounds = append(bounds, b.GetUpperBound())
		}
		if !slices.Equal(bounds, append(slices.Clone(metrics.DefaultBuckets), math.Inf(1))) {
			t.Errorf("%+v: buckets %v, want the conventions' %v", want, bounds, metrics.DefaultBuckets)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Errorf("the default registry lacks the Go and process collectors: %v", keys(fams))
	}
}

// TestStatusCache: a route answering many statuses, for several methods
// (an any-method route), counts each (method, status) in its own series:
// the per-route cache keeps the statuses of each class and method apart,
// and statuses outside 100–599 are counted too.
func TestStatusCache(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(metrics.New(metrics.Config{}))
	app.Handle("", "/status/{code}", func(c *graft.Ctx) error {
		code, err := strconv.Atoi(c.Param("code"))
		if err != nil {
			return err
		}
		c.Status(code)
		return nil
	})
	base := start(t, app)
	codes := []int{200, 201, 299, 302, 404, 418, 500, 599, 600, 999}
	methods := []string{"GET", "PUT", "DELETE", "PURGE"}
	for _, m := range methods {
		for i, code := range codes {
			for range i%3 + 1 {
				if got := get(t, m, base+"/status/"+strconv.Itoa(code)); got != code {
					t.Fatalf("%s /status/%d: %d", m, code, got)
				}
			}
		}
	}
	fams := scrape(t, base)
	n := 0
	for _, m := range methods {
		if m == "PURGE" {
			m = "_OTHER"
		}
		for i, code := range codes {
			s := find(fams, "http_server_request_duration_seconds", "http_request_method="+m, "http_route=/status/{code}", "http_response_status_code="+strconv.Itoa(code))
			if s == nil {
				t.Errorf("no series for %s %d", m, code)
				continue
			}
			n++
			if got, want := s.GetHistogram().GetSampleCount(), uint64(i%3+1); got != want {
				t.Errorf("%s %d: count %d, want %d", m, code, got, want)
			}
		}
	}
	if got := len(fams["http_server_request_duration_seconds"].Metric); got != n {
		t.Errorf("%d series, want %d (one per method and status)", got, n)
	}
}

// TestActiveRequests: http_server_active_requests counts the requests in
// flight by method, and falls back once they are answered.
func TestActiveRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(metrics.New(metrics.Config{}))
	app.POST("/slow", func(c *graft.Ctx) error {
		entered <- struct{}{}
		<-release
		return c.NoContent()
	})
	base := start(t, app)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			res, err := http.Post(base+"/slow", "text/plain", nil)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
	}
	for i := range 2 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d did not reach the handler within 5s", i+1)
		}
	}
	if m := find(scrape(t, base), "http_server_active_requests", "http_request_method=POST"); m == nil || m.GetGauge().GetValue() != 2 {
		t.Fatalf("active POST requests: %v, want 2", m)
	}
	close(release)
	for range 2 {
		select {
		case s := <-done:
			if s != 204 {
				t.Fatalf("slow request: status %d", s)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("slow requests not answered within 5s")
		}
	}
	if m := find(scrape(t, base), "http_server_active_requests", "http_request_method=POST"); m == nil || m.GetGauge().GetValue() != 0 {
		t.Fatalf("active POST requests after the answers: %v, want 0", m)
	}
}

// client is a real WebSocket client (gws) collecting what it receives.
type client struct {
	gws.BuiltinEventHandler
	got  chan string
	done chan struct{}
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) { c.got <- m.Data.String(); m.Close() }

func dial(t *testing.T, url string) (*gws.Conn, *client) {
	t.Helper()
	c := &client{got: make(chan string, 16), done: make(chan struct{})}
	conn, _, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws" + strings.TrimPrefix(url, "http")})
	if err != nil {
		t.Fatal(err)
	}
	go func() { conn.ReadLoop(); close(c.done) }()
	t.Cleanup(func() {
		conn.NetConn().Close()
		<-c.done
	})
	return conn, c
}

// waitValue scrapes until the metric has the value, for up to 5 s.
func waitValue(t *testing.T, base, name string, want float64, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last float64 = -1
	for time.Now().Before(deadline) {
		if m := find(scrape(t, base), name, labels...); m != nil {
			if last = value(m); last == want {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s%v = %v, waited 5s for %v", name, labels, last, want)
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

// TestWebSocket: connections opened and open by route, messages and bytes
// received by route, and what the hub sent, from a real client.
func TestWebSocket(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(metrics.New(metrics.Config{WebSocket: true}))
	ws.Route(app, "/echo/{room}", ws.Behavior[struct{}]{
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) { c.Send(data, op, false) },
	})
	base := start(t, app)

	conn, cl := dial(t, base+"/echo/a")
	for _, msg := range []string{"one", "two", "three"} {
		if err := conn.WriteString(msg); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-cl.got:
			if got != msg {
				t.Fatalf("echo %q, want %q", got, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no echo of %q within 5s", msg)
		}
	}
	route := "http_route=/echo/{room}"
	fams := scrape(t, base)
	for _, c := range []struct {
		name   string
		want   float64
		labels []string
	}{
		{"websocket_server_connections_total", 1, []string{route}},
		{"websocket_server_active_connections", 1, []string{route}},
		{"websocket_server_messages_received_total", 3, []string{route}},
		{"websocket_server_received_bytes_total", float64(len("onetwothree")), []string{route}},
		{"websocket_server_messages_sent_total", 3, nil},
		{"websocket_server_messages_dropped_total", 0, nil},
	} {
		m := find(fams, c.name, c.labels...)
		if m == nil || value(m) != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, m, c.want)
		}
	}
	conn.WriteClose(1000, nil)
	waitValue(t, base, "websocket_server_active_connections", 0, route)
}

// TestSetupErrors: bad settings stop start-up naming the extension.
func TestSetupErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	for name, tc := range map[string]struct {
		cfg   metrics.Config
		twice bool
		want  string
	}{
		"path":             {cfg: metrics.Config{Path: "metrics"}, want: `Config.Path is "metrics"`},
		"buckets":          {cfg: metrics.Config{Buckets: []float64{1, 0.5}}, want: "Config.Buckets must increase"},
		"half a registry":  {cfg: metrics.Config{Registerer: reg}, want: "Config.Registerer and Config.Gatherer go together"},
		"shared registry":  {cfg: metrics.Config{Registerer: reg, Gatherer: reg}, twice: true, want: "registering its collectors"},
		"websocket, no ws": {cfg: metrics.Config{WebSocket: true}, want: "graft.ws"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.twice {
				first := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
				first.Register(metrics.New(tc.cfg))
				if err := first.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { first.Stop(context.Background()) })
			}
			app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
			app.Register(metrics.New(tc.cfg))
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("start-up succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), metrics.ID) {
				t.Errorf("error %q lacks %q or the extension's id", err, tc.want)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

var _ = fmt.Sprint
