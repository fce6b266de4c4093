package nats

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// MaxTopicLen is the longest topic, in bytes, the broker carries. Its
// subject (4/3 as long, plus the prefix) stays well below the server's
// default max_control_line of 4096 bytes.
const MaxTopicLen = 2048

// maxPrefixLen bounds Options.Prefix for the same reason.
const maxPrefixLen = 256

// emptyToken is the subject token of the empty topic; an unpadded base64
// encoding is never one character long, so it cannot collide.
const emptyToken = "_"

// Subject returns the NATS subject the topic maps to under prefix (see the
// package documentation). It fails for a topic longer than MaxTopicLen.
func Subject(prefix, topic string) (string, error) {
	if len(topic) > MaxTopicLen {
		return "", fmt.Errorf("graft/broker/nats: topic of %d bytes exceeds MaxTopicLen (%d)", len(topic), MaxTopicLen)
	}
	if topic == "" {
		return prefix + "." + emptyToken, nil
	}
	var buf [128]byte // the common case builds the subject without a heap buffer
	b := append(buf[:0], prefix...)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, []byte(topic))
	return string(b), nil
}

// Topic is the inverse of Subject: it returns the topic of a subject made by
// Subject with the same prefix.
func Topic(prefix, subject string) (string, error) {
	token, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return "", fmt.Errorf("graft/broker/nats: subject %q is not under prefix %q", subject, prefix)
	}
	if token == emptyToken {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("graft/broker/nats: subject %q: %w", subject, err)
	}
	return string(b), nil
}

// validPrefix checks that prefix is a literal subject: non-empty tokens, no
// wildcards, no whitespace.
func validPrefix(prefix string) error {
	if len(prefix) > maxPrefixLen {
		return fmt.Errorf("graft/broker/nats: Prefix of %d bytes is longer than %d", len(prefix), maxPrefixLen)
	}
	for tok := range strings.SplitSeq(prefix, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n\x00") {
			return fmt.Errorf("graft/broker/nats: Prefix %q is not a literal NATS subject (empty token, wildcard or whitespace)", prefix)
		}
	}
	return nil
}
