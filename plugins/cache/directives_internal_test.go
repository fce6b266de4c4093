package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want directives
	}{
		{nil, noDirectives},
		{[]string{"max-age=60, public"}, directives{public: true, maxAge: 60, sMaxAge: -1, minFresh: -1}},
		{[]string{"MAX-AGE=60", "s-maxage=5"}, directives{maxAge: 60, sMaxAge: 5, minFresh: -1}},
		{[]string{`private="Set-Cookie, X-A", max-age=3`}, directives{private: true, maxAge: 3, sMaxAge: -1, minFresh: -1}},
		{[]string{`no-cache="X-A", no-store`}, directives{noCache: true, noStore: true, maxAge: -1, sMaxAge: -1, minFresh: -1}},
		{[]string{"max-age=1, max-age=2"}, directives{maxAge: 2, sMaxAge: -1, minFresh: -1, invalid: true}},
		{[]string{"max-age=1, max-age=1"}, directives{maxAge: 1, sMaxAge: -1, minFresh: -1}},
		{[]string{"max-age=-1"}, directives{maxAge: -1, sMaxAge: -1, minFresh: -1, invalid: true}},
		{[]string{"max-age"}, directives{maxAge: -1, sMaxAge: -1, minFresh: -1, invalid: true}},
		{[]string{"max-age=99999999999999999999"}, directives{maxAge: 1 << 31, sMaxAge: -1, minFresh: -1}},
		{[]string{"must-revalidate, only-if-cached, min-fresh=4, x-ext=\"a,b\""}, directives{mustRevalidate: true, onlyIfCached: true, maxAge: -1, sMaxAge: -1, minFresh: 4}},
		{[]string{" , ,proxy-revalidate,"}, directives{mustRevalidate: true, maxAge: -1, sMaxAge: -1, minFresh: -1}},
	} {
		if got := parseCacheControl(tc.in); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestRequestDirectivesPragma(t *testing.T) {
	if d := requestDirectives(http.Header{"Pragma": {"x, no-cache"}}); !d.noCache {
		t.Error("Pragma: no-cache ignored")
	}
	if d := requestDirectives(http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=5"}}); d.noCache {
		t.Error("Pragma used beside Cache-Control")
	}
}

func TestFreshnessAndAge(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}
	if life, explicit := freshness(h, noDirectives, now, time.Minute); life != time.Hour || !explicit {
		t.Errorf("Expires: %v %v", life, explicit)
	}
	if life, explicit := freshness(http.Header{}, noDirectives, now, time.Minute); life != time.Minute || explicit {
		t.Errorf("default: %v %v", life, explicit)
	}
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, " 7 ": 7 * time.Second, "x": 0, "-3": 0} {
		if got := ageOf(http.Header{"Age": {in}}); got != want {
			t.Errorf("Age %q: %v, want %v", in, got, want)
		}
	}
}

func TestParseVary(t *testing.T) {
	names, star := parseVary([]string{"accept-language, Accept", "X-A,accept"})
	if star || len(names) != 3 || names[0] != "Accept" || names[1] != "Accept-Language" || names[2] != "X-A" {
		t.Errorf("%q %v", names, star)
	}
	if _, star := parseVary([]string{"Accept, *"}); !star {
		t.Error("* not seen")
	}
}
