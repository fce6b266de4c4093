package main

import (
	"errors"
	"strings"

	"github.com/graftgo/graft"
)

// EntityTag is an HTTP entity tag (RFC 9110 §8.8.3): "opaque" or W/"opaque".
type EntityTag struct {
	Weak   bool
	Opaque string
}

// String formats the tag as it goes on the wire.
func (t EntityTag) String() string {
	if t.Weak {
		return `W/"` + t.Opaque + `"`
	}
	return `"` + t.Opaque + `"`
}

// TagList is the value of If-None-Match: "*" or a list of entity tags.
type TagList struct {
	Any  bool
	Tags []EntityTag
}

// String formats the list as it goes on the wire.
func (l TagList) String() string {
	if l.Any {
		return "*"
	}
	parts := make([]string, len(l.Tags))
	for i, t := range l.Tags {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

// Matches reports whether t is in the list by the weak comparison
// If-None-Match uses (RFC 9110 §13.1.2): opaque parts equal, weakness
// ignored.
func (l TagList) Matches(t EntityTag) bool {
	if l.Any {
		return true
	}
	for _, x := range l.Tags {
		if x.Opaque == t.Opaque {
			return true
		}
	}
	return false
}

// The typed header fields of the notes: the response's ETag and the
// request's If-None-Match (webpp's response_header_field extensie).
var (
	ETag        = graft.NewHeaderField("ETag", parseEntityTag, EntityTag.String)
	IfNoneMatch = graft.NewHeaderField("If-None-Match", parseTagList, TagList.String)
)

func parseEntityTag(s string) (EntityTag, error) {
	t, rest, err := scanTag(s)
	if err != nil {
		return t, err
	}
	if strings.TrimSpace(rest) != "" {
		return t, errors.New("text after the entity tag")
	}
	return t, nil
}

func parseTagList(s string) (TagList, error) {
	if strings.TrimSpace(s) == "*" {
		return TagList{Any: true}, nil
	}
	var l TagList
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		t, rest, err := scanTag(s)
		if err != nil {
			return TagList{}, err
		}
		l.Tags = append(l.Tags, t)
		s = rest
	}
	if len(l.Tags) == 0 {
		return l, errors.New("no entity tag in the list")
	}
	return l, nil
}

// scanTag reads one entity tag at the start of s (a list element may hold
// commas inside its quotes, so lists are scanned, not split).
func scanTag(s string) (EntityTag, string, error) {
	var t EntityTag
	s = strings.TrimLeft(s, " \t")
	if rest, ok := strings.CutPrefix(s, "W/"); ok {
		t.Weak, s = true, rest
	}
	if !strings.HasPrefix(s, `"`) {
		return t, "", errors.New(`an entity tag is a quoted string, e.g. "v1" or W/"v1"`)
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return t, "", errors.New("the entity tag's closing quote is missing")
	}
	t.Opaque = s[1 : 1+end]
	for _, r := range t.Opaque {
		if r < 0x21 || r == 0x7f {
			return t, "", errors.New("the entity tag holds a space or control character")
		}
	}
	return t, s[2+end:], nil
}
