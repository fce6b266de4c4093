package nats

import (
	"strings"
	"testing"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ topic, want string }{
		{"", "graft.ws._"},
		{"a", "graft.ws.YQ"},
		{"chat", "graft.ws.Y2hhdA"},
		{"a.b", "graft.ws.YS5i"},
		{"*", "graft.ws.Kg"},
		{">", "graft.ws.Pg"},
		{"room 1", "graft.ws.cm9vbSAx"},
		{"\xff\xfe", "graft.ws.__4"},
	} {
		got, err := Subject("graft.ws", tc.topic)
		if err != nil || got != tc.want {
			t.Errorf("Subject(%q) = %q, %v, want %q", tc.topic, got, err, tc.want)
		}
		back, err := Topic("graft.ws", got)
		if err != nil || back != tc.topic {
			t.Errorf("Topic(%q) = %q, %v, want %q", got, back, err, tc.topic)
		}
	}
	if _, err := Topic("graft.ws", "other.YQ"); err == nil {
		t.Error("Topic accepted a subject under another prefix")
	}
	if _, err := Topic("graft.ws", "graft.ws.!!"); err == nil {
		t.Error("Topic accepted a token that is not base64url")
	}
}

func TestValidPrefix(t *testing.T) {
	for _, p := range []string{"graft", "graft.ws", "app-1.ws_x"} {
		if err := validPrefix(p); err != nil {
			t.Errorf("validPrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{".", "a..b", "a.", ".a", "a.*", "a.>", "a b", "a\tb", strings.Repeat("a", 257)} {
		if err := validPrefix(p); err == nil {
			t.Errorf("validPrefix(%q) accepted", p)
		}
		if _, err := New(Options{Prefix: p}); err == nil && p != "" {
			t.Errorf("New accepted Prefix %q", p)
		}
	}
}

// FuzzSubject checks that every topic maps to a literal subject (one more
// token, of base64url characters only) that maps back to the topic.
func FuzzSubject(f *testing.F) {
	for _, s := range []string{"", "a", "a.b.*.>", " ", "\x00", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		subj, err := Subject("p.q", topic)
		if len(topic) > MaxTopicLen {
			if err == nil {
				t.Fatal("no error for a topic over MaxTopicLen")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		tok, ok := strings.CutPrefix(subj, "p.q.")
		if !ok || tok == "" || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("Subject(%q) = %q: not one base64url token", topic, subj)
		}
		back, err := Topic("p.q", subj)
		if err != nil || back != topic {
			t.Fatalf("Topic(Subject(%q)) = %q, %v", topic, back, err)
		}
	})
}
