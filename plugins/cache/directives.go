package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives are the Cache-Control directives the cache acts on (RFC 9111
// §5.2), from a request or a response.
type directives struct {
	noStore, noCache, private, public, mustRevalidate, onlyIfCached bool
	// maxAge, sMaxAge, minFresh are in seconds; -1 when absent.
	maxAge, sMaxAge, minFresh int64
	// invalid is set when a directive the cache reads has a value that
	// does not parse (max-age=soon): the answer is treated as stale.
	invalid bool
}

var noDirectives = directives{maxAge: -1, sMaxAge: -1, minFresh: -1}

// parseCacheControl reads the Cache-Control field lines. Directive names
// are case-insensitive; arguments may be quoted; unknown directives are
// ignored, as RFC 9111 §5.2 asks.
func parseCacheControl(lines []string) directives {
	d := noDirectives
	for _, line := range lines {
		for line != "" {
			var item string
			item, line = nextItem(line)
			if item == "" {
				continue
			}
			name, arg, hasArg := strings.Cut(item, "=")
			name = strings.TrimSpace(name)
			arg = strings.TrimSpace(arg)
			if hasArg && len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
				arg = arg[1 : len(arg)-1]
			}
			switch {
			case strings.EqualFold(name, "no-store"):
				d.noStore = true
			case strings.EqualFold(name, "no-cache"):
				d.noCache = true // with or without field names: never served unrevalidated
			case strings.EqualFold(name, "private"):
				d.private = true
			case strings.EqualFold(name, "public"):
				d.public = true
			case strings.EqualFold(name, "must-revalidate"), strings.EqualFold(name, "proxy-revalidate"):
				d.mustRevalidate = true
			case strings.EqualFold(name, "only-if-cached"):
				d.onlyIfCached = true
			case strings.EqualFold(name, "max-age"):
				d.maxAge = seconds(arg, hasArg, d.maxAge, &d.invalid)
			case strings.EqualFold(name, "s-maxage"):
				d.sMaxAge = seconds(arg, hasArg, d.sMaxAge, &d.invalid)
			case strings.EqualFold(name, "min-fresh"):
				d.minFresh = seconds(arg, hasArg, d.minFresh, &d.invalid)
			}
		}
	}
	return d
}

// nextItem splits the next comma-separated item off a field value,
// keeping commas inside a quoted string (private="Set-Cookie, X-Id").
func nextItem(s string) (item, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				return strings.TrimSpace(s[:i]), s[i+1:]
			}
		}
	}
	return strings.TrimSpace(s), ""
}

// seconds parses a delta-seconds argument (RFC 9111 §1.2.2): digits only,
// values past 2^31 capped there. A second occurrence of a directive with
// another value, or one that does not parse, makes the directives invalid.
func seconds(arg string, hasArg bool, prev int64, invalid *bool) int64 {
	if !hasArg || arg == "" {
		*invalid = true
		return prev
	}
	for i := range len(arg) {
		if arg[i] < '0' || arg[i] > '9' {
			*invalid = true
			return prev
		}
	}
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n > 1<<31 {
		n = 1 << 31
	}
	if prev >= 0 && prev != n {
		*invalid = true
	}
	return n
}

// requestDirectives reads what a request asks of the cache: Cache-Control,
// or Pragma: no-cache when it has none (HTTP/1.0 clients).
func requestDirectives(h http.Header) directives {
	if cc := h["Cache-Control"]; len(cc) > 0 {
		return parseCacheControl(cc)
	}
	d := noDirectives
	for _, p := range h["Pragma"] {
		for p != "" {
			var item string
			item, p = nextItem(p)
			if strings.EqualFold(item, "no-cache") {
				d.noCache = true
			}
		}
	}
	return d
}

// freshness returns how long a response with header h stays fresh in a
// shared cache, from its Cache-Control (s-maxage before max-age), then its
// Expires (against its Date, or now), then def; explicit reports whether
// the response gave the lifetime itself.
func freshness(h http.Header, d directives, now time.Time, def time.Duration) (life time.Duration, explicit bool) {
	switch {
	case d.sMaxAge >= 0:
		return time.Duration(d.sMaxAge) * time.Second, true
	case d.maxAge >= 0:
		return time.Duration(d.maxAge) * time.Second, true
	}
	if ex, ok := h["Expires"]; ok {
		if len(ex) == 0 {
			return 0, true
		}
		exp, err := http.ParseTime(ex[0])
		if err != nil {
			return 0, true // an invalid Expires is a time in the past (RFC 9111 §5.3)
		}
		base := now
		if ds := h["Date"]; len(ds) > 0 {
			if date, err := http.ParseTime(ds[0]); err == nil {
				base = date
			}
		}
		return exp.Sub(base), true
	}
	return def, false
}

// ageOf returns the Age a response carried (seconds), 0 when it has none or
// it does not parse.
func ageOf(h http.Header) time.Duration {
	a := h["Age"]
	if len(a) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(a[0]), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, 1<<31)) * time.Second
}
