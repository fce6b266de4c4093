package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
)

// ID is the extension's ID: name it in Requires to contribute checks.
const ID = "graft.ext.healthcheck"

// DefaultTimeout is Options.Timeout when it is 0.
const DefaultTimeout = 2 * time.Second

// Check reports whether one dependency is ready. It must return once ctx
// is done (ctx carries the readiness deadline).
type Check func(ctx context.Context) error

// Options configures the endpoints.
type Options struct {
	// LivePath is the liveness endpoint; "" means "/healthz".
	LivePath string
	// ReadyPath is the readiness endpoint; "" means "/readyz".
	ReadyPath string
	// Timeout bounds all readiness checks of one request together; 0
	// means DefaultTimeout. A check still running at the deadline fails
	// as "timeout".
	Timeout time.Duration
}

// Health is the extension. Other extensions reach it with
// graft.Require[*healthcheck.Health] and add their checks from Extend.
type Health struct {
	opts     Options
	mu       sync.Mutex
	checks   []named
	started  bool
	stopping atomic.Bool
}

type named struct {
	name string
	fn   Check
}

// Extension returns the health-check extension.
func Extension(opts Options) *Health {
	if opts.LivePath == "" {
		opts.LivePath = "/healthz"
	}
	if opts.ReadyPath == "" {
		opts.ReadyPath = "/readyz"
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Health{opts: opts}
}

// ID implements graft.Extension.
func (*Health) ID() string { return ID }

// AddCheck adds a readiness check. Call it before the app starts: from the
// Extend of an extension that requires this one, or on the value before
// registering it. An empty or duplicate name, a nil check, or a call after
// start-up is an error, which Extend should return.
func (h *Health) AddCheck(name string, fn Check) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.started:
		return fmt.Errorf("healthcheck: AddCheck(%q) after the app started; add checks from Extend", name)
	case name == "" || strings.ContainsAny(name, "\"\\\r\n"):
		return fmt.Errorf("healthcheck: AddCheck(%q): a check needs a plain, non-empty name", name)
	case fn == nil:
		return fmt.Errorf("healthcheck: AddCheck(%q): the check is nil", name)
	}
	for _, c := range h.checks {
		if c.name == name {
			return fmt.Errorf("healthcheck: AddCheck(%q): a check of that name exists already; give each check its own name", name)
		}
	}
	h.checks = append(h.checks, named{name, fn})
	return nil
}

// Extend registers GET LivePath and GET ReadyPath in the extension's scope
// and marks the app not ready as soon as it begins to stop.
func (h *Health) Extend(b *graft.Builder) error {
	if h.opts.Timeout < 0 {
		return fmt.Errorf("healthcheck: Options.Timeout %v is negative", h.opts.Timeout)
	}
	for _, p := range []string{h.opts.LivePath, h.opts.ReadyPath} {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("healthcheck: path %q must start with '/'", p)
		}
	}
	if h.opts.LivePath == h.opts.ReadyPath {
		return fmt.Errorf("healthcheck: LivePath and ReadyPath are both %q; give readiness its own path", h.opts.LivePath)
	}
	b.Handle(http.MethodGet, h.opts.LivePath, h.live)
	b.Handle(http.MethodGet, h.opts.ReadyPath, h.ready)
	b.OnShutdown(func(context.Context) { h.stopping.Store(true) })
	return nil
}

// Start freezes the list of checks (extensions that contribute checks
// have all been extended by then).
func (h *Health) Start(context.Context) error {
	h.mu.Lock()
	h.started = true
	h.mu.Unlock()
	return nil
}

// Stop lets a stopped app be started again with the same value.
func (h *Health) Stop(context.Context) error {
	h.mu.Lock()
	h.started = false
	h.mu.Unlock()
	h.stopping.Store(false)
	return nil
}

// Names returns the names of the readiness checks, in the order added.
func (h *Health) Names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, len(h.checks))
	for i, c := range h.checks {
		names[i] = c.name
	}
	return names
}

var (
	liveBody = []byte(`{"status":"ok"}`)
	noStore  = []string{"no-store"}
)

func (h *Health) live(c *graft.Ctx) error {
	c.Response().Header()["Cache-Control"] = noStore
	return c.Bytes(http.StatusOK, "application/json", liveBody)
}

// Report is the readiness answer's body.
type Report struct {
	// Status is "ok", or "unavailable" when a check failed or the app is
	// stopping.
	Status string `json:"status"`
	// Checks maps each check to "ok" or to why it failed.
	Checks map[string]string `json:"checks"`
	// Failed lists the failed checks, sorted.
	Failed []string `json:"failed,omitempty"`
}

var errStopping = errors.New("the app is stopping")

func (h *Health) ready(c *graft.Ctx) error {
	rep := h.Run(c.Context())
	c.Response().Header()["Cache-Control"] = noStore
	status := http.StatusOK
	if rep.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, rep)
}

// Run runs every readiness check at once, under one deadline of
// Options.Timeout, and reports them. A check that panics fails with the
// panic's value; one still running at the deadline fails as "timeout"
// (and is left to finish on its own: checks must honour ctx).
func (h *Health) Run(ctx context.Context) Report {
	h.mu.Lock()
	checks := h.checks
	h.mu.Unlock()
	rep := Report{Status: "ok", Checks: make(map[string]string, len(checks))}
	if h.stopping.Load() {
		rep.Status = "unavailable"
		rep.Checks["shutdown"] = errStopping.Error()
		rep.Failed = append(rep.Failed, "shutdown")
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(checks)) // buffered: a late check never blocks
	for i, ch := range checks {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					results <- result{i, fmt.Errorf("panic: %v", p)}
				}
			}()
			results <- result{i, ch.fn(ctx)}
		}()
	}
	pending := len(checks)
	done := make([]bool, len(checks))
	for pending > 0 {
		select {
		case r := <-results:
			pending--
			done[r.i] = true
			msg := "ok"
			if r.err != nil {
				msg = r.err.Error()
				if errors.Is(r.err, context.DeadlineExceeded) && ctx.Err() != nil {
					msg = "timeout after " + h.opts.Timeout.String()
				}
			}
			rep.Checks[checks[r.i].name] = msg
		case <-ctx.Done():
			for i, d := range done {
				if !d {
					rep.Checks[checks[i].name] = "timeout after " + h.opts.Timeout.String()
				}
			}
			pending = 0
		}
	}
	for _, ch := range checks {
		if rep.Checks[ch.name] != "ok" {
			rep.Failed = append(rep.Failed, ch.name)
		}
	}
	if len(rep.Failed) > 0 {
		rep.Status = "unavailable"
		slices.Sort(rep.Failed)
	}
	return rep
}
