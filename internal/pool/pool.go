// Package pool holds the two operations of the free lists that the hot
// paths reuse objects through (the emulator's requests, invocations, calls
// and coroutines, the extractor's invocations, the log encoder's): a free
// list is a slice used as a stack, the most recently freed object first.
package pool

// Pop removes and returns the last element of *s, zeroing its slot (the
// zero value and false when *s is empty).
func Pop[T any](s *[]T) (T, bool) {
	var zero T
	n := len(*s)
	if n == 0 {
		return zero, false
	}
	v := (*s)[n-1]
	(*s)[n-1] = zero
	*s = (*s)[:n-1]
	return v, true
}

// Take takes an object from the free list, or makes a new one when it is
// empty.
func Take[T any](free *[]*T) *T {
	if v, ok := Pop(free); ok {
		return v
	}
	return new(T)
}
