package pool

import "testing"

func TestPopAndTake(t *testing.T) {
	a, b := new(int), new(int)
	s := []*int{a, b}
	backing := s
	if v, ok := Pop(&s); !ok || v != b || len(s) != 1 || backing[1] != nil {
		t.Fatalf("Pop: %p %v, %d left, slot %p; want b, true, 1 left, slot cleared", v, ok, len(s), backing[1])
	}
	if v := Take(&s); v != a || len(s) != 0 {
		t.Fatalf("Take: %p with %d left, want a and none", v, len(s))
	}
	if v, ok := Pop(&s); ok || v != nil {
		t.Fatalf("Pop of an empty list: %p %v, want nil, false", v, ok)
	}
	if v := Take(&s); v == nil || v == a || v == b {
		t.Fatalf("Take of an empty list: %p, want a new object", v)
	}
}
