package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/httpmethod"
	"github.com/graftgo/graft/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ID is the extension's ID.
const ID = "graft.metrics"

// DefaultBuckets are the bucket bounds, in seconds, that OpenTelemetry's
// semantic conventions advise for http.server.request.duration.
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Config configures the metrics extension. The zero value serves a
// registry of its own, with the Go and process collectors, on /metrics.
type Config struct {
	// Registerer receives the extension's collectors, and Gatherer is
	// what /metrics serves; both nil means a new prometheus.Registry with
	// the Go runtime and process collectors. Set both to use your own
	// (prometheus.DefaultRegisterer and prometheus.DefaultGatherer for
	// the global one).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Path is the route of the exposition ("/metrics" when empty; "-"
	// serves none, for an app that serves Handler itself).
	Path string
	// Buckets are the request-duration histogram's bucket bounds in
	// seconds (DefaultBuckets when nil).
	Buckets []float64
	// WebSocket counts the connections and messages of the WebSocket
	// routes in the extension's scope. It makes the extension require the
	// WebSocket extension (ws.ExtensionID), which the first ws.Route
	// registers.
	WebSocket bool
}

// Ext is the metrics extension; make it with New.
type Ext struct {
	cfg     Config
	reg     prometheus.Registerer
	gather  prometheus.Gatherer
	err     error
	started bool

	duration *prometheus.HistogramVec
	active   *prometheus.GaugeVec
	actives  [len(knownMethods) + 1]prometheus.Gauge // by methodIndex

	// observers caches the histogram's children of statuses outside
	// 100–599 by method, route and status: a copy-on-write map read
	// without a lock. Those in range are in each route's routeObservers.
	observers atomic.Pointer[map[obsKey]prometheus.Observer]
	obsMu     sync.Mutex // for both

	wsOpened, wsReceived, wsReceivedBytes *prometheus.CounterVec
	wsActive                              *prometheus.GaugeVec
}

type obsKey struct {
	method uint8
	status int
	route  string
}

// knownMethods are the methods the conventions name; others are _OTHER,
// so that a client cannot grow the label set.
var knownMethods = httpmethod.Known

// methodIndex returns m's index in knownMethods, or len(knownMethods).
func methodIndex(m string) uint8 { return uint8(httpmethod.Index(m)) }

func methodName(i uint8) string {
	if int(i) < len(knownMethods) {
		return knownMethods[i]
	}
	return "_OTHER"
}

// New returns the metrics extension for cfg; register it on the app.
func New(cfg Config) *Ext {
	e := &Ext{cfg: cfg}
	if cfg.Path == "" {
		e.cfg.Path = "/metrics"
	}
	if e.cfg.Path != "-" && !strings.HasPrefix(e.cfg.Path, "/") {
		e.err = fmt.Errorf("Config.Path is %q; give a route starting with /, or \"-\" to serve none", cfg.Path)
	}
	if cfg.Buckets == nil {
		e.cfg.Buckets = DefaultBuckets
	}
	for i := 1; i < len(e.cfg.Buckets); i++ {
		if e.cfg.Buckets[i] <= e.cfg.Buckets[i-1] {
			e.err = fmt.Errorf("Config.Buckets must increase; %v follows %v", e.cfg.Buckets[i], e.cfg.Buckets[i-1])
		}
	}
	switch {
	case cfg.Registerer == nil && cfg.Gatherer == nil:
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		e.reg, e.gather = r, r
	case cfg.Registerer == nil || cfg.Gatherer == nil:
		e.err = errors.New("Config.Registerer and Config.Gatherer go together; set both (a *prometheus.Registry is both) or neither")
	default:
		e.reg, e.gather = cfg.Registerer, cfg.Gatherer
	}
	return e
}

// ID returns ID.
func (e *Ext) ID() string { return ID }

// Requires lists the WebSocket extension when Config.WebSocket is set.
func (e *Ext) Requires() []string {
	if e.cfg.WebSocket {
		return []string{ws.ExtensionID}
	}
	return nil
}

// Registerer returns the registerer the extension's collectors are in,
// for the app's own metrics.
func (e *Ext) Registerer() prometheus.Registerer { return e.reg }

// Handler returns the exposition handler of the extension's gatherer
// (what Path serves), for an app that serves it elsewhere.
func (e *Ext) Handler() http.Handler {
	return promhttp.HandlerFor(e.gather, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Extend registers the collectors, the middleware, the /metrics route and
// the WebSocket hooks.
func (e *Ext) Extend(b *graft.Builder) error {
	if e.err != nil {
		return e.err
	}
	if e.started {
		return errors.New("this metrics extension is already registered on another app or scope; make one per app with metrics.New")
	}
	e.started = true
	e.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_server_request_duration_seconds",
		Help:    "Duration of HTTP server requests (OpenTelemetry http.server.request.duration).",
		Buckets: e.cfg.Buckets,
	}, []string{"http_request_method", "http_route", "http_response_status_code"})
	e.active = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "http_server_active_requests",
		Help: "Number of HTTP server requests in flight (OpenTelemetry http.server.active_requests).",
	}, []string{"http_request_method"})
	cs := []prometheus.Collector{e.duration, e.active}
	if e.cfg.WebSocket {
		e.wsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "websocket_server_active_connections",
			Help: "Number of open WebSocket connections.",
		}, []string{"http_route"})
		e.wsOpened = counterVec("websocket_server_connections_total", "WebSocket connections opened.")
		e.wsReceived = counterVec("websocket_server_messages_received_total", "WebSocket messages received (rate-limited ones excluded).")
		e.wsReceivedBytes = counterVec("websocket_server_received_bytes_total", "Payload bytes of the WebSocket messages received.")
		cs = append(cs, e.wsActive, e.wsOpened, e.wsReceived, e.wsReceivedBytes)
	}
	for _, c := range cs {
		if err := e.reg.Register(c); err != nil {
			return fmt.Errorf("registering its collectors: %w (is another metrics extension using the same registry?)", err)
		}
	}
	for i := range e.actives {
		e.actives[i] = e.active.WithLabelValues(methodName(uint8(i)))
	}
	e.observers.Store(&map[obsKey]prometheus.Observer{})
	b.UseRoute(e.middleware)
	if e.cfg.Path != "-" {
		h := e.Handler()
		b.Handle("GET", e.cfg.Path, func(c *graft.Ctx) error {
			h.ServeHTTP(c.Response(), c.Request)
			return nil
		})
	}
	if e.cfg.WebSocket {
		return e.extendWS(b)
	}
	return nil
}

func counterVec(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"http_route"})
}

// middleware measures each request of route rt (nil: the 404 and 405
// answers), with the route's histogram children cached by method and
// status.
func (e *Ext) middleware(rt *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
	ro := &routeObservers{e: e}
	if rt != nil {
		ro.route = rt.Pattern()
	}
	return func(c *graft.Ctx) error {
		m := methodIndex(c.Request.Method)
		g := e.actives[m]
		g.Inc()
		start := c.StartTime() // one clock reading shared with plugins/logging
		err := next(c)         // answered: the final status
		took := time.Since(start)
		g.Dec()
		ro.observer(m, c.StatusCode()).Observe(took.Seconds())
		return err
	}
}

// Statuses minStatus to maxStatus are indexed in a route's cache, by
// class (1xx to 5xx) and the rest: a class's table is made the first time
// the route answers a status of it, for the method.
const (
	minStatus = 100
	maxStatus = 599
)

// routeObservers are one route's histogram children by method index,
// status class and status; written under Ext.obsMu, read without a lock.
type routeObservers struct {
	e       *Ext
	route   string
	classes [len(knownMethods) + 1][(maxStatus + 1 - minStatus) / 100]atomic.Pointer[statusClass]
}

// statusClass holds the children of the 100 statuses of a class.
type statusClass [100]atomic.Pointer[observerOf]

// observerOf boxes a histogram child for an atomic pointer.
type observerOf struct{ o prometheus.Observer }

// observer returns the child of method index m and status, made once.
func (ro *routeObservers) observer(m uint8, status int) prometheus.Observer {
	if status < minStatus || status > maxStatus {
		return ro.e.observer(obsKey{m, status, ro.route})
	}
	i := status - minStatus
	if cl := ro.classes[m][i/100].Load(); cl != nil {
		if o := cl[i%100].Load(); o != nil {
			return o.o
		}
	}
	ro.e.obsMu.Lock()
	defer ro.e.obsMu.Unlock()
	cl := ro.classes[m][i/100].Load()
	if cl == nil {
		cl = new(statusClass)
		ro.classes[m][i/100].Store(cl)
	}
	if o := cl[i%100].Load(); o != nil {
		return o.o
	}
	o := ro.e.duration.WithLabelValues(methodName(m), ro.route, strconv.Itoa(status))
	cl[i%100].Store(&observerOf{o})
	return o
}

// observer returns the histogram child for k, made once.
func (e *Ext) observer(k obsKey) prometheus.Observer {
	if o, ok := (*e.observers.Load())[k]; ok {
		return o
	}
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	cur := *e.observers.Load()
	if o, ok := cur[k]; ok {
		return o
	}
	o := e.duration.WithLabelValues(methodName(k.method), k.route, strconv.Itoa(k.status))
	next := make(map[obsKey]prometheus.Observer, len(cur)+1)
	for kk, v := range cur {
		next[kk] = v
	}
	next[k] = o
	e.observers.Store(&next)
	return o
}
