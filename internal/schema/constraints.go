package schema

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Constraints are the validation tags of a field (or a param): the
// validator enforces them and the documents show them.
type Constraints struct {
	Min, Max             *float64
	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	Format               string
}

// Empty reports whether c constrains nothing.
func (c *Constraints) Empty() bool {
	return c.Min == nil && c.Max == nil && c.MinLength == nil && c.MaxLength == nil &&
		c.Pattern == "" && len(c.Enum) == 0 && c.Format == ""
}

// Tags are the struct tags ParseConstraints reads.
var Tags = []string{"required", "min", "max", "minLength", "maxLength", "pattern", "enum", "format"}

// ParseConstraints reads the constraint tags of a field: `required:"true"`,
// `min`, `max` (numbers), `minLength`, `maxLength` (string runes, slice and
// map lengths), `pattern` (a Go regexp), `enum` (comma-separated values),
// `format` (one of Formats).
func ParseConstraints(tag reflect.StructTag) (Constraints, bool, error) {
	var c Constraints
	req := false
	if v, ok := tag.Lookup("required"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, false, fmt.Errorf(`required:%q: use required:"true"`, v)
		}
		req = b
	}
	for _, k := range [...]string{"min", "max"} {
		if v, ok := tag.Lookup(k); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return c, false, fmt.Errorf("%s:%q is not a number", k, v)
			}
			if k == "min" {
				c.Min = &f
			} else {
				c.Max = &f
			}
		}
	}
	for _, k := range [...]string{"minLength", "maxLength"} {
		if v, ok := tag.Lookup(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, false, fmt.Errorf("%s:%q is not a length", k, v)
			}
			if k == "minLength" {
				c.MinLength = &n
			} else {
				c.MaxLength = &n
			}
		}
	}
	if v, ok := tag.Lookup("pattern"); ok {
		if _, err := regexp.Compile(v); err != nil {
			return c, false, fmt.Errorf("pattern:%q: %v", v, err)
		}
		c.Pattern = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		c.Enum = strings.Split(v, ",")
	}
	if v, ok := tag.Lookup("format"); ok {
		if Format(v) == nil {
			return c, false, fmt.Errorf("format:%q is unknown; use email, uuid or date-time", v)
		}
		c.Format = v
	}
	return c, req, nil
}

// Formats are the values of the `format` tag, the same names as JSON
// Schema's formats.
var Formats = []string{"email", "uuid", "date-time"}

// Format returns the check of a `format` tag value, nil for an unknown one.
func Format(name string) func(string) bool {
	switch name {
	case "email":
		return isEmail
	case "uuid":
		return isUUID
	case "date-time":
		return isDateTime
	}
	return nil
}

// isEmail accepts local@domain with a dot-free-or-dotted domain of
// letters, digits and hyphens: the addr-spec subset real forms accept.
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 {
			return false
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c == '-' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// isUUID accepts the 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
				return false
			}
		}
	}
	return true
}

// isDateTime accepts RFC 3339 date-times.
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
