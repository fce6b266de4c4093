package cache

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// URLKey returns the default key of a request for path and rawQuery: the
// escaped path, then "?" and the query in canonical form when there is
// one. The canonical query has its parameters sorted by name (the values
// of one name keep their order, which handlers may read) and each name
// and value in one escaping, so ?b=2&a=1 and ?a=%31&b=2 share a key;
// empty parameters (&&) are dropped and a pair that does not decode is
// kept as it was sent. The method is not part of the key: HEAD is served
// from a GET's entry.
//
// Purge takes such a key: cache.Purge(ctx, cache.URLKey("/items/7", "")).
func URLKey(path, rawQuery string) string {
	if rawQuery == "" {
		return path
	}
	return path + "?" + canonicalQuery(rawQuery)
}

// requestURLKey is URLKey for r, without building a string when the path
// alone is the key.
func requestURLKey(r *http.Request) string {
	// The escaped form: a path with %00 must not write the key separator
	// (it would reach another URL's variants).
	return URLKey(r.URL.EscapedPath(), r.URL.RawQuery)
}

type queryPair struct {
	name, text string // decoded name (sort key); the pair as written in the key
}

// canonicalQuery puts raw in canonical form (see URLKey). A query already
// canonical (sorted, nothing to re-escape) is returned as it is.
func canonicalQuery(raw string) string {
	if isCanonical(raw) {
		return raw
	}
	var pairs []queryPair
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		k, v, hasV := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			pairs = append(pairs, queryPair{name: k, text: pair})
			continue
		}
		text := url.QueryEscape(dk)
		if hasV {
			text += "=" + url.QueryEscape(dv)
		}
		pairs = append(pairs, queryPair{name: dk, text: text})
	}
	slices.SortStableFunc(pairs, func(a, b queryPair) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	b.Grow(len(raw))
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// isCanonical reports whether raw needs no work: names in order, no empty
// pair, no byte that QueryEscape would write otherwise.
func isCanonical(raw string) bool {
	prev := ""
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			return false
		}
		for i := range len(pair) {
			if !plainQueryByte(pair[i]) {
				return false
			}
		}
		name, _, _ := strings.Cut(pair, "=")
		if name < prev {
			return false
		}
		prev = name
	}
	return true
}

// plainQueryByte reports whether QueryEscape leaves c as it is ('=' is the
// pair's separator).
func plainQueryByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '='
}

// Key layout: the primary key (URL key, Policy.Key's result), then for a
// User key sepUser and the identity, then for a varying answer sepVary
// and the varied headers' values. Purge(key) removes key and every key
// that starts with key+sep.
const (
	sep     = "\x00"
	sepUser = "\x00u="
	sepVary = "\x00v="
)

// parseVary returns the canonical names of the request headers a Vary
// field lists, sorted and without duplicates, and whether it lists "*".
func parseVary(lines []string) (names []string, star bool) {
	for _, line := range lines {
		for line != "" {
			var item string
			item, line = nextItem(line)
			if item == "" {
				continue
			}
			if item == "*" {
				return nil, true
			}
			names = append(names, textproto.CanonicalMIMEHeaderKey(item))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), false
}

// variantKey returns the key of the answer to a request with header h
// among those of primary that vary on names.
func variantKey(primary string, names []string, h http.Header) string {
	var b strings.Builder
	b.WriteString(primary)
	b.WriteString(sepVary)
	for i, n := range names {
		if i > 0 {
			b.WriteByte('\x01')
		}
		b.WriteString(n)
		b.WriteByte(':')
		for j, v := range h[n] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
	}
	return b.String()
}
