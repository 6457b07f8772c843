package load

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Issue 15: --requests 999999999999 overflowed into a negative duration in
// the message, and 50000001 requests were reported as "50000000 requests
// is more than the limit".
func TestRequestLimitMessages(t *testing.T) {
	for n, want := range map[int]string{
		999999999999: "999999999999 requests is more than the limit of 50000000",
		50_000_001:   "50000001 requests is more than the limit of 50000000",
		0:            "0 requests: at least 1 is needed",
	} {
		for _, kind := range []string{KindConstant, KindColdstart} {
			_, err := Spec{Kind: kind, RatePerS: 10, Requests: n}.Arrivals()
			if n == 0 && kind == KindConstant {
				continue // 0: the duration decides
			}
			if !errors.Is(err, ErrBadLoad) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "-") {
				t.Errorf("%s, %d requests: %v, want %q", kind, n, err, want)
			}
		}
	}
	if _, err := Constant(10, 5_000_000*time.Second+time.Nanosecond); err == nil || !strings.Contains(err.Error(), "50000001 requests") {
		t.Errorf("Constant just over the limit: %v", err)
	}
	// A rate so low that the last request would come after the clock's range.
	if _, err := (Spec{Kind: KindConstant, RatePerS: 1e-9, Requests: 10}).Arrivals(); err == nil || !strings.Contains(err.Error(), "beyond") {
		t.Errorf("far future: %v", err)
	}
	if _, err := Ramping(0, []Stage{{0, 200 * 365 * 24 * time.Hour}, {0, 200 * 365 * 24 * time.Hour}}); err == nil || !strings.Contains(err.Error(), "last longer than") {
		t.Errorf("stages beyond the clock: %v", err)
	}
}

// Issue 15: a replay file whose first line did not parse was read as if
// that line were a header. Only a line starting with a letter is one.
func TestReplayHeaderMustLookLikeOne(t *testing.T) {
	for in, n := range map[string]int{
		"offset_s\n0\n0.5\n":          2,
		"timestamp,route\n0,SYNC-I\n": 1,
		"\ufeffTime\n1\n":             1,
		"# comment\n0\n":              1,
	} {
		a, err := Replay(strings.NewReader(in), "f.csv")
		if err != nil || len(a) != n {
			t.Errorf("%q: %d arrivals, %v; want %d", in, len(a), err, n)
		}
	}
	for in, want := range map[string]string{
		"0.x5\n1\n":           `f.csv:1: "0.x5"`,
		"1O\n2\n":             `f.csv:1: "1O"`,
		"2023-13-45T00:00Z\n": `f.csv:1: "2023-13-45T00:00Z"`,
		"-\n1\n":              `f.csv:1: "-"`,
		"time\nsoon\n":        `f.csv:2: "soon"`,
		"99999999999\n":       "beyond",
	} {
		if _, err := Replay(strings.NewReader(in), "f.csv"); !errors.Is(err, ErrBadLoad) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", in, err, want)
		}
	}
}
