package trace

import "hash/maphash"

// idTable holds invocations by request id: the head of each id's chain
// (invocation.same links the others). It is an open-addressing table with
// linear probing and backward-shift deletion: an extraction adds and
// removes every invocation once, which a Go map does several times slower.
type idTable struct {
	seed  maphash.Seed
	slots []idSlot // a power of two of them; nil inv: empty
	n     int
}

type idSlot struct {
	h   uint64
	inv *invocation
}

func (t *idTable) hash(id string) uint64 {
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
		t.slots = make([]idSlot, 64)
	}
	return maphash.String(t.seed, id)
}

// find returns the index of id's slot and whether it is there (if not, the
// empty slot where it would go).
func (t *idTable) find(id string, h uint64) (int, bool) {
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.inv == nil {
			return i, false
		}
		if s.h == h && s.inv.requestID == id {
			return i, true
		}
	}
}

// get returns the head invocation of id (nil: none).
func (t *idTable) get(id string) *invocation {
	if t.n == 0 {
		return nil
	}
	if i, ok := t.find(id, t.hash(id)); ok {
		return t.slots[i].inv
	}
	return nil
}

// set makes inv the head of its request id's chain.
func (t *idTable) set(inv *invocation) {
	h := t.hash(inv.requestID)
	i, ok := t.find(inv.requestID, h)
	if ok {
		t.slots[i].inv = inv
		return
	}
	t.slots[i] = idSlot{h, inv}
	if t.n++; 2*t.n > len(t.slots) {
		t.grow()
	}
}

// del removes id.
func (t *idTable) del(id string) {
	if t.n == 0 {
		return
	}
	i, ok := t.find(id, t.hash(id))
	if !ok {
		return
	}
	t.n--
	// Shift back the entries after i that may not stay behind the hole.
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].inv != nil; j = (j + 1) & mask {
		home := int(t.slots[j].h) & mask
		// The entry at j may move to i if its home is not in (i, j]
		// (cyclically).
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = idSlot{}
}

func (t *idTable) grow() {
	old := t.slots
	t.slots = make([]idSlot, 2*len(old))
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.inv == nil {
			continue
		}
		i := int(s.h) & mask
		for t.slots[i].inv != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
