package strtab

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTable: random sets and deletes agree with a map, through growth and
// the shifts of deletion.
func TestTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tab Table[int]
	want := map[string]int{}
	keys := make([]string, 3000)
	for i := range keys {
		keys[i] = fmt.Sprintf("id-%d", i)
	}
	for step := 0; step < 200_000; step++ {
		k := keys[rng.IntN(len(keys))]
		switch rng.IntN(3) {
		case 0, 1:
			tab.Set(k, step)
			want[k] = step
		default:
			tab.Delete(k)
			delete(want, k)
		}
		if step%1000 == 0 {
			for _, k := range keys {
				got, ok := tab.Get(k)
				w, wok := want[k]
				if got != w || ok != wok {
					t.Fatalf("step %d: %s is %d %v, want %d %v", step, k, got, ok, w, wok)
				}
			}
			if tab.Len() != len(want) {
				t.Fatalf("step %d: %d keys, want %d", step, tab.Len(), len(want))
			}
		}
	}
}
