// Package strtab is a hash table keyed by strings for what a Go map does
// several times slower: many keys added and removed once each (the
// invocations of a log, by request id). Open addressing, linear probing,
// backward-shift deletion; it is never iterated, so its order (its hash
// seed is random) shows nowhere.
package strtab

import (
	"hash/maphash"
	"unsafe"
)

// Table maps strings to values of type V. The zero value is empty and
// ready to use. It is not safe for concurrent use.
type Table[V any] struct {
	seed  maphash.Seed
	slots []slot[V] // a power of two of them
	n     int
}

type slot[V any] struct {
	h   uint64 // the key's hash with its low bit set; 0: empty
	key string
	val V
}

func (t *Table[V]) hash(key string) uint64 {
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
		t.slots = make([]slot[V], 64)
	}
	return maphash.String(t.seed, key) | 1
}

// find returns the index of key's slot and whether it holds key (if not,
// the empty slot where it would go).
func (t *Table[V]) find(key string, h uint64) (int, bool) {
	mask := len(t.slots) - 1
	for i := int(h>>1) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.h == 0 {
			return i, false
		}
		if s.h == h && s.key == key {
			return i, true
		}
	}
}

// Len is the number of keys.
func (t *Table[V]) Len() int { return t.n }

// Get returns the value of key and whether there is one.
func (t *Table[V]) Get(key string) (V, bool) {
	if t.n == 0 {
		var zero V
		return zero, false
	}
	if i, ok := t.find(key, t.hash(key)); ok {
		return t.slots[i].val, true
	}
	var zero V
	return zero, false
}

// Set makes v the value of key.
func (t *Table[V]) Set(key string, v V) {
	h := t.hash(key)
	i, ok := t.find(key, h)
	if ok {
		t.slots[i].val = v
		return
	}
	t.slots[i] = slot[V]{h, key, v}
	if t.n++; 2*t.n > len(t.slots) {
		t.grow()
	}
}

// Delete removes key.
func (t *Table[V]) Delete(key string) {
	if t.n == 0 {
		return
	}
	i, ok := t.find(key, t.hash(key))
	if !ok {
		return
	}
	t.n--
	// Shift back the entries after i that may not stay behind the hole:
	// those whose home slot is not cyclically in (i, j].
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].h != 0; j = (j + 1) & mask {
		home := int(t.slots[j].h>>1) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot[V]{}
}

func (t *Table[V]) grow() {
	old := t.slots
	t.slots = make([]slot[V], 2*len(old))
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.h == 0 {
			continue
		}
		i := int(s.h>>1) & mask
		for t.slots[i].h != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// Slot is the index of s's entry in a direct-mapped table of n entries
// keyed by the address of a string's bytes, such as a cache of recent keys
// in front of a Table: code that passes the same string each time finds
// its entry without hashing the bytes. The entry must still be checked to
// hold s.
func Slot(s string, n int) int {
	a := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return int(((a >> 3) ^ (a >> 11)) % uintptr(n))
}
