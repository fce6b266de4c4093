package idempotency

import (
	"strconv"
	"strings"
)

// ParseKey reads an Idempotency-Key field value: a Structured Field
// sf-string (RFC 8941), `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, with
// the escapes \" and \\, or, as many clients send it, the bare key
// `8e03978e-40d5-43e8-bc93-6894a57f9324`: visible ASCII without spaces,
// double quotes, backslashes, commas or semicolons. Surrounding spaces
// and tabs are ignored. It returns the key (unescaped) or a reason why the
// value is not one: empty, longer than max bytes, a character outside
// printable ASCII, an unfinished string or escape, something after the
// string (parameters or a list). max 0 means no cap.
func ParseKey(v string, max int) (string, string) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", "the Idempotency-Key is empty"
	}
	if v[0] != '"' {
		if max > 0 && len(v) > max {
			return "", "the Idempotency-Key is longer than " + strconv.Itoa(max) + " characters"
		}
		for i := range len(v) {
			switch c := v[i]; {
			case c <= 0x20 || c >= 0x7f:
				return "", "the Idempotency-Key has a character outside printable ASCII or a space; send it as a quoted string: Idempotency-Key: \"KEY\""
			case c == '"' || c == '\\' || c == ',' || c == ';':
				return "", "the Idempotency-Key has " + strconv.QuoteRune(rune(c)) + "; send one key as a quoted string: Idempotency-Key: \"KEY\""
			}
		}
		return v, ""
	}
	// sf-string: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE
	escapes := 0
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c >= 0x7f:
			return "", "the Idempotency-Key has a character outside printable ASCII"
		case c == '\\':
			i++
			if i == len(v) {
				return "", "the Idempotency-Key's string ends inside an escape"
			}
			if v[i] != '"' && v[i] != '\\' {
				return "", "the Idempotency-Key has an escape other than \\\" or \\\\"
			}
			escapes++
		case c == '"':
			if i != len(v)-1 {
				return "", "the Idempotency-Key has something after its closing quote; send one key and no parameters"
			}
			key := v[1:i]
			if escapes > 0 {
				b := make([]byte, 0, len(key)-escapes)
				for j := 0; j < len(key); j++ {
					if key[j] == '\\' {
						j++
					}
					b = append(b, key[j])
				}
				key = string(b)
			}
			if key == "" {
				return "", "the Idempotency-Key is empty"
			}
			if max > 0 && len(key) > max {
				return "", "the Idempotency-Key is longer than " + strconv.Itoa(max) + " characters"
			}
			return key, ""
		}
	}
	return "", "the Idempotency-Key's string has no closing quote"
}
