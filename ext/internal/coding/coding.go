// Package coding reads Accept-Encoding (RFC 9110 §12.5.3) for the
// first-party static and compress extensions.
package coding

import (
	"strconv"
	"strings"
)

// Q returns the q-value the Accept-Encoding lines give coding: its own
// entry if listed, else the "*" entry, else -1 (not mentioned). A q-value
// that does not parse counts as 0. "x-gzip" is an alias of "gzip".
func Q(lines []string, coding string) float64 {
	own, star := -1.0, -1.0
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ",")
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			q := 1.0
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			switch {
			case strings.EqualFold(name, coding), coding == "gzip" && strings.EqualFold(name, "x-gzip"):
				own = max(own, q)
			case name == "*":
				star = max(star, q)
			}
		}
	}
	if own >= 0 {
		return own
	}
	return star
}

// Choose returns the coding out of offered (in the server's order of
// preference) with the highest positive q-value, ties going to the earlier
// one, or "" when none is acceptable and identity should be sent.
func Choose(lines []string, offered ...string) string {
	best, bestQ := "", 0.0
	for _, o := range offered {
		if q := Q(lines, o); q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}
