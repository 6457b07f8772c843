package load

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

func times(arr []fusionsim.Arrival) []time.Duration {
	out := make([]time.Duration, len(arr))
	for i, a := range arr {
		out[i] = a.At
	}
	return out
}

func ms(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(math.Round(x * 1e6))
	}
	return out
}

func equal(t *testing.T, what string, got, want []time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d arrivals %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: arrival %d at %v, want %v (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

func TestConstant(t *testing.T) {
	a, err := Constant(10, 100*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1000 {
		t.Fatalf("%d arrivals, want 1000", len(a))
	}
	for i, x := range a {
		if want := time.Duration(i) * 100 * time.Millisecond; x.At != want || x.AfterPrevious || x.ColdBefore {
			t.Fatalf("arrival %d: %+v, want at %v", i, x, want)
		}
	}
	a, _ = Constant(3, time.Second)
	equal(t, "3/s for 1s", times(a), []time.Duration{0, 333333333, 666666667})
	a, _ = Constant(4, 1100*time.Millisecond)
	equal(t, "4/s for 1.1s", times(a), ms(0, 250, 500, 750, 1000))
	for _, bad := range []struct {
		r float64
		d time.Duration
	}{{0, time.Second}, {-1, time.Second}, {math.Inf(1), time.Second}, {math.NaN(), time.Second}, {1, 0}, {1e9, time.Hour}} {
		if _, err := Constant(bad.r, bad.d); !errors.Is(err, ErrBadLoad) {
			t.Errorf("Constant(%v, %v): %v, want ErrBadLoad", bad.r, bad.d, err)
		}
	}
}

func TestRampingConstantIsConstant(t *testing.T) {
	r, err := Ramping(10, []Stage{{10, 100 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Constant(10, 100*time.Second)
	equal(t, "ramping at a constant rate", times(r), times(c))
}

func TestRampingRamp(t *testing.T) {
	// From 0 to 4 requests/s over 2 s: N(t) = t^2, so request i at sqrt(i)
	// s for i < N(2) = 4; then 4/s held for 1 s: N = 4 + 4(t-2), requests
	// 4..7 at 2, 2.25, 2.5, 2.75 s.
	a, err := Ramping(0, []Stage{{4, 2 * time.Second}, {4, time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, time.Second, time.Duration(math.Round(math.Sqrt2 * 1e9)), time.Duration(math.Round(math.Sqrt(3) * 1e9))}
	want = append(want, ms(2000, 2250, 2500, 2750)...)
	equal(t, "ramp", times(a), want)

	// Down from 4 to 0 over 2 s: N(t) = 4t - t^2; N = i at t = 2 - sqrt(4-i).
	a, _ = Ramping(4, []Stage{{0, 2 * time.Second}})
	want = nil
	for i := 0; i < 4; i++ {
		want = append(want, time.Duration(math.Round((2-math.Sqrt(4-float64(i)))*1e9)))
	}
	equal(t, "ramp down", times(a), want)
}

func TestBurstyPreset(t *testing.T) {
	a, err := Ramping(0, Bursty())
	if err != nil {
		t.Fatal(err)
	}
	// 0.25 (ramp to 5) + 7 ramps of 0.75 ... 3.75 (15.75) + 2 s at each of
	// 5..40 (360) = 376 requests over 16.8 s.
	if len(a) != 376 {
		t.Errorf("%d requests, want 376", len(a))
	}
	if last := a[len(a)-1].At; last >= 16800*time.Millisecond || last < 16700*time.Millisecond {
		t.Errorf("last request at %v, want within the last step ending at 16.8 s", last)
	}
	// The first hold at 5/s: N(0.1 s) = 0.25, so request 1 at 0.1 + 0.75/5 = 0.25 s.
	if a[1].At != 250*time.Millisecond {
		t.Errorf("second request at %v, want 250ms", a[1].At)
	}
	// The rate in the last 2 s step is 40/s.
	n := 0
	for _, x := range a {
		if x.At >= 14800*time.Millisecond {
			n++
		}
	}
	if n != 80 {
		t.Errorf("%d requests in the last 2 s, want 80", n)
	}
	for i := 1; i < len(a); i++ {
		if a[i].At < a[i-1].At {
			t.Fatalf("arrival %d at %v before %v", i, a[i].At, a[i-1].At)
		}
	}
	if got := FormatStages(Bursty()[:2]); got != "5:100ms,5:2s" {
		t.Errorf("FormatStages: %q", got)
	}
}

func TestParseStages(t *testing.T) {
	st, err := ParseStages("5:0.1s, 5:2s,10:100ms")
	if err != nil {
		t.Fatal(err)
	}
	want := []Stage{{5, 100 * time.Millisecond}, {5, 2 * time.Second}, {10, 100 * time.Millisecond}}
	if len(st) != 3 || st[0] != want[0] || st[1] != want[1] || st[2] != want[2] {
		t.Errorf("got %v", st)
	}
	for in, msg := range map[string]string{
		"5:2s,10":      `stage 2 "10": want target:duration`,
		"5:2s,x:1s":    `stage 2 "x:1s": target "x"`,
		"5:2s,-1:1s":   `target "-1"`,
		"5:2s,10:soon": `duration "soon"`,
		"5:0s":         `duration "0s"`,
	} {
		_, err := ParseStages(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
	if _, err := Ramping(0, []Stage{{0, time.Second}}); err != nil {
		t.Errorf("a silent stage: %v", err)
	}
	if a, _ := Ramping(0, []Stage{{0, time.Second}}); len(a) != 0 {
		t.Errorf("a silent stage sent %d requests", len(a))
	}
}

func TestColdstart(t *testing.T) {
	a, err := Coldstart(3, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []fusionsim.Arrival{
		{ColdBefore: true},
		{At: 2 * time.Second, AfterPrevious: true, ColdBefore: true},
		{At: 2 * time.Second, AfterPrevious: true, ColdBefore: true},
	}
	for i := range want {
		if a[i].At != want[i].At || a[i].AfterPrevious != want[i].AfterPrevious || a[i].ColdBefore != want[i].ColdBefore {
			t.Errorf("arrival %d: %+v, want %+v", i, a[i], want[i])
		}
	}
	if _, err := Coldstart(0, 0); !errors.Is(err, ErrBadLoad) {
		t.Errorf("0 requests: %v", err)
	}
}

func TestPoissonSeeded(t *testing.T) {
	a, err := Poisson(10, 100*time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Poisson(10, 100*time.Second, 1)
	c, _ := Poisson(10, 100*time.Second, 2)
	equal(t, "same seed", times(a), times(b))
	if len(a) == len(c) && a[0].At == c[0].At {
		t.Error("seeds 1 and 2 gave the same arrivals")
	}
	// 1000 expected; a Poisson count has sd 31.6.
	if len(a) < 900 || len(a) > 1100 {
		t.Errorf("%d arrivals at 10/s for 100 s", len(a))
	}
}

func TestReplay(t *testing.T) {
	a, err := ReplayFile("testdata/offsets.csv")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "offsets", times(a), ms(0, 250, 250, 1500, 2000, 2500))
	a, err = ReplayFile("testdata/cloudwatch.csv")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "RFC 3339", times(a), ms(0, 100, 1000))
	a, err = Replay(strings.NewReader("1676020434829\n1676020434929\n"), "epoch")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "epoch ms", times(a), ms(0, 100))

	for in, msg := range map[string]string{
		"0\n1\nsoon\n":                  `in.csv:3: "soon": neither seconds`,
		"0\n2\n1\n":                     `in.csv:3: "1": earlier than the line before`,
		"0\n2023-02-14T11:06:40.698Z\n": `in.csv:2: "2023-02-14T11:06:40.698Z": mixes absolute times and offsets`,
		"-1\n":                          `in.csv:1: "-1": time before the start`,
		"header\n":                      "no arrival times",
		"":                              "no arrival times",
	} {
		_, err := Replay(strings.NewReader(in), "in.csv")
		if err == nil || !strings.Contains(err.Error(), msg) || !errors.Is(err, ErrBadLoad) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}

func TestSpec(t *testing.T) {
	a, err := Spec{Kind: KindConstant, RatePerS: 10, Requests: 7, Event: fusionsim.Event{"n": 5}}.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "7 requests at 10/s", times(a), ms(0, 100, 200, 300, 400, 500, 600))
	a[0].Event["n"] = 6
	if a[1].Event["n"] != 5 {
		t.Error("arrivals share their event")
	}
	a, err = Spec{Kind: KindBursty}.Arrivals()
	if err != nil || len(a) != 376 {
		t.Errorf("bursty preset: %d arrivals, %v", len(a), err)
	}
	if _, err := (Spec{Kind: "spiky"}).Arrivals(); err == nil || !strings.Contains(err.Error(), `kind "spiky"`) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := (Spec{Kind: KindReplay}).Arrivals(); err == nil {
		t.Error("replay without a file accepted")
	}
}

// TestReplayedArrivals: a replay of given arrivals keeps each one's time,
// route, kind and body, fills the bodies left nil with the spec's event,
// and does not share the caller's slice.
func TestReplayedArrivals(t *testing.T) {
	given := []fusionsim.Arrival{
		{At: 0, Route: fusionsim.Route{Task: "cart", MemoryMB: 256, Sync: true}, Kind: "cart"},
		{At: 100 * time.Millisecond, Route: fusionsim.Route{Task: "front", MemoryMB: 128, Sync: true}, Kind: "checkout", Event: fusionsim.Event{"op": "checkout"}},
	}
	s := Spec{Kind: KindReplay, Replayed: given, Event: fusionsim.Event{"user": 1}}
	got, err := s.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Route != given[0].Route || got[1].At != 100*time.Millisecond || got[1].Kind != "checkout" {
		t.Fatalf("%+v", got)
	}
	if got[0].Event["user"] != 1 || got[1].Event["op"] != "checkout" || got[1].Event["user"] != nil {
		t.Errorf("events %v, %v: want the spec's where none, the arrival's own otherwise", got[0].Event, got[1].Event)
	}
	got[0].At = time.Hour
	if given[0].At != 0 || given[0].Event != nil {
		t.Errorf("the given arrivals changed: %+v", given[0])
	}
	if s.String() != "replay of 2 requests" {
		t.Errorf("String %q", s.String())
	}
}
