package fusionsim

import "testing"

// FuzzParseRoute: routes and function names never panic, and what they
// accept is written back (Route.String, FunctionID.Name and Short) in a
// form that parses to the same value.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"SYNC-I-128", "SYNC-CSA", "AS-1650", "/G", "SYNC-frontend-10240", "I-64", "SYNC-", "fusion-function-CSL-768", "CSL", "A-0128", "x-1-2", "SYNC-SYNC-A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRoute(s); err == nil {
			back, err := ParseRoute(r.String())
			if err != nil || back != r {
				t.Fatalf("route %q = %+v written as %q reads %+v, %v", s, r, r.String(), back, err)
			}
			if err := ValidateTaskName(r.Task); err != nil {
				t.Fatalf("route %q: task %q: %v", s, r.Task, err)
			}
			if fn := r.Function(); fn.MemoryMB < MinMemoryMB || fn.MemoryMB > MaxMemoryMB {
				t.Fatalf("route %q reaches %v", s, fn)
			}
		}
		if id, err := ParseFunctionName(s); err == nil {
			for _, name := range []string{id.Name(), id.Short()} {
				if back, err := ParseFunctionName(name); err != nil || back != id {
					t.Fatalf("function %q = %+v written as %q reads %+v, %v", s, id, name, back, err)
				}
			}
		}
	})
}
