package trace

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIDTable: random sets and deletes agree with a map, through growth
// and the shifts of deletion.
func TestIDTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tab idTable
	want := map[string]*invocation{}
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	for step := 0; step < 200_000; step++ {
		id := ids[rng.IntN(len(ids))]
		switch rng.IntN(3) {
		case 0, 1:
			inv := &invocation{requestID: id}
			tab.set(inv)
			want[id] = inv
		default:
			tab.del(id)
			delete(want, id)
		}
		if step%1000 == 0 {
			for _, id := range ids {
				if got := tab.get(id); got != want[id] {
					t.Fatalf("step %d: %s is %p, want %p", step, id, got, want[id])
				}
			}
			if tab.n != len(want) {
				t.Fatalf("step %d: %d entries, want %d", step, tab.n, len(want))
			}
		}
	}
}
