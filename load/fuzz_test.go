package load

import (
	"reflect"
	"strings"
	"testing"
	"time"
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
