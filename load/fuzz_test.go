package load

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// FuzzReplay: replay CSV never panics; accepted arrivals start at or after
// 0 and never decrease, and written back as Go durations, one a line, read
// back the same.
func FuzzReplay(f *testing.F) {
	for _, s := range []string{"offset_s\n0\n0.5\n1\n", "0\n250ms\n1m30s\n", "2023-02-14T11:06:40.698Z\n2023-02-14T11:06:41Z\n", "1676370400698,a\n1676370400700,b\n", "0.x5\n1\n", "\ufeff# c\n\n3,x\n", "1\n0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		arr, err := Replay(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			return
		}
		var b strings.Builder
		var prev time.Duration
		for i, a := range arr {
			if a.At < 0 || a.At < prev || a.At > maxOffset {
				t.Fatalf("%q: arrival %d at %v after %v", in, i, a.At, prev)
			}
			prev = a.At
			b.WriteString(a.At.String() + "\n")
		}
		back, err := Replay(strings.NewReader(b.String()), "back.csv")
		if err != nil || !reflect.DeepEqual(back, arr) {
			t.Fatalf("%q written back as %q: %v", in, b.String(), err)
		}
	})
}

// FuzzParseStages: stage lists never panic; accepted ones are written back
// by FormatStages in a form that parses to the same stages.
func FuzzParseStages(f *testing.F) {
	for _, s := range []string{"5:0.1s,5:2s,10:0.1s,10:2s", "0:1s,10:1s", "10", "1e3:1ms", "-1:2s", "5:0s", "NaN:1s", " 7 : 3s "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStages(s)
		if err != nil {
			return
		}
		back, err := ParseStages(FormatStages(st))
		if err != nil || !reflect.DeepEqual(back, st) {
			t.Fatalf("%q = %v written as %q reads %v, %v", s, st, FormatStages(st), back, err)
		}
	})
}

// FuzzScenario: load files never panic the reader; an accepted scenario is
// valid, reads back the same from its JSON form, and (when small) makes
// arrivals that platforms accept, with bodies that are JSON objects.
func FuzzScenario(f *testing.F) {
	for _, name := range []string{"webshop.yaml", "iot-mix.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"executor: ramping-arrival-rate\nstages: [{target_per_s: 4, duration_s: 1}]\nmax_vus: 1\npre_allocated_vus: 0\nsetup: [{entry: S, pause_s: 1}]\niteration: [{entry: A, body: {a: [1, {$user: string}]}}, {entry: B, sync: false, repeat: 2}]\n",
		"{executor: constant-arrival-rate, rate_per_s: 1, duration_s: 2, max_vus: 1, iteration: [{entry: A, body: {x: &x {$int: [1, 2]}, y: *x}}]}",
		"executor: constant-arrival-rate\nrate_per_s: 1e9\nduration_s: 1e9\nmax_vus: 1\niteration: [{entry: A}]\n",
		"{\"executor\": \"constant-arrival-rate\", \"rate_per_s\": 2, \"duration_s\": 1, \"max_vus\": 3, \"iteration\": [{\"entry\": \"A\", \"body\": {\"k\": {\"$pick\": [null, 1.5, \"s\"]}}}]}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ReadScenario(strings.NewReader(text), "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrBadLoad) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("%q: error %v does not wrap ErrBadLoad and name the file", text, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("%q: accepted, then invalid: %v", text, err)
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		back, err := ReadScenario(strings.NewReader(string(js)), "fuzz.yaml")
		if err != nil || !sameScenario(s, back) {
			t.Fatalf("%q: written as %s, read back %+v (%v)", text, js, back, err)
		}
		// Iterations: the rate's integral over the scenario.
		n := s.RatePerS * s.Duration.Seconds()
		prev := s.StartRatePerS
		for _, st := range s.Stages {
			n += (prev + st.TargetPerS) * st.Duration.Seconds() / 2
			prev = st.TargetPerS
		}
		if total := (n+1)*float64(CountRequests(s.Iteration)) + float64(CountRequests(s.Setup)); total > 5000 || total*float64(len(js)) > 2e6 {
			return // large: slow, not more interesting
		}
		arr, err := s.Arrivals(7, routeAt(128))
		if err != nil {
			t.Fatalf("%q: arrivals: %v", text, err)
		}
		if err := fusionsim.CheckArrivals(arr); err != nil {
			t.Fatalf("%q: arrivals: %v", text, err)
		}
		for i, a := range arr {
			ev := a.Event
			if a.EventFor != nil {
				ev = a.EventFor(3)
			}
			if _, err := json.Marshal(ev); err != nil || ev == nil {
				t.Fatalf("%q: body %d %v: %v", text, i, ev, err)
			}
		}
	})
}
