package workloads

import (
	"reflect"
	"testing"
)

// FuzzParseGroups: group descriptions of the IoT and split applications
// never panic; an accepted one builds a setup the application accepts, and
// its String form parses to the same groups.
func FuzzParseGroups(f *testing.F) {
	for _, s := range []string{"I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650", "A.B.D.E,C,F,G", "A+B+D+E:128,C:1024,F:1536,G:1536", "I", "I+I", "A:64", ",", "A+B:128:3"} {
		f.Add(s)
	}
	apps := []Workload{IoT(), Split()}
	f.Fuzz(func(t *testing.T, desc string) {
		for _, w := range apps {
			gs, err := ParseGroups(w.App, desc)
			if err != nil {
				continue
			}
			again, err := ParseGroups(w.App, gs.String())
			if err != nil || !reflect.DeepEqual(again, gs) {
				t.Fatalf("%s: %q = %v written as %q reads %v, %v", w.Name(), desc, gs, gs.String(), again, err)
			}
			s, err := Build(w.App, "fuzz", gs)
			if err != nil {
				t.Fatalf("%s: %q parses but does not build: %v", w.Name(), desc, err)
			}
			if err := w.App.CheckSetup(s); err != nil {
				t.Fatalf("%s: %q builds a setup the app refuses: %v", w.Name(), desc, err)
			}
		}
	})
}
