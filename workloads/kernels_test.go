package workloads

import (
	"fmt"
	"math"
	"testing"

	"github.com/fusionsim/fusionsim"
)

func TestSievesAgree(t *testing.T) {
	// pi(n) from the literature.
	for _, tc := range []struct{ n, pi int }{{0, 0}, {1, 0}, {2, 1}, {3, 2}, {10, 4}, {100, 25}, {1000, 168}, {1_000_000, 78498}} {
		plain, packed := SieveOfEratosthenes(tc.n), SieveBitPackedOdd(tc.n)
		if len(plain) != tc.pi || len(packed) != tc.pi {
			t.Errorf("pi(%d): plain %d, bit-packed %d, want %d", tc.n, len(plain), len(packed), tc.pi)
			continue
		}
		for i := range plain {
			if plain[i] != packed[i] {
				t.Fatalf("n=%d: prime %d: plain %d, bit-packed %d", tc.n, i, plain[i], packed[i])
			}
		}
	}
	if p := SieveOfEratosthenes(15_485_863); p[len(p)-1] != 15_485_863 || len(p) != 1_000_000 {
		t.Errorf("the millionth prime is 15,485,863: got %d primes, last %d", len(p), p[len(p)-1])
	}
}

func TestSieveWork(t *testing.T) {
	w, err := SieveWork(SievePlain, 15_485_863, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 1.8 s at 128 MB in the prototype.
	if s := w.CPUMs / (128.0 / 1769); math.Abs(s-1800) > 20 {
		t.Errorf("plain sieve of the first million primes: %.0f ms at 128 MB, want about 1800", s)
	}
	if w.Threads != 1 || w.Name != "sieve-plain-15485863" {
		t.Errorf("descriptor %+v", w)
	}
	if w.MemoryMB < 20 || w.MemoryMB > 25 {
		t.Errorf("memory %.1f MB, want about 22", w.MemoryMB)
	}
	b, _ := SieveWork(SieveBitPacked, 76_918_253, nil)
	if s := b.CPUMs / (128.0 / 1769); math.Abs(s-1200) > 20 {
		t.Errorf("bit-packed sieve of 4.5 million primes: %.0f ms at 128 MB, want about 1200", s)
	}
	var count int
	small, _ := SieveWork(SieveBitPacked, 1000, &count)
	small.Run()
	if count != 168 {
		t.Errorf("Run counted %d primes up to 1000, want 168", count)
	}
	if _, err := SieveWork("quick", 10, nil); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func TestBurn(t *testing.T) {
	if n := BurnIterations(7); n != 823543 {
		t.Errorf("burn(7) iterations %d", n)
	}
	if n := BurnIterations(8.8); n != 4086756 { // 8.8^7 = 4,086,755.9
		t.Errorf("burn(8.8) iterations %d", n)
	}
	// burn(2): 128 iterations, summed by hand.
	var want float64
	for i := 0; i < 128; i++ {
		want += math.Atan(float64(i)) * math.Tan(float64(i))
	}
	if got := Burn(2); got != want {
		t.Errorf("burn(2) = %v, want %v", got, want)
	}
	var sum float64
	w := BurnWorkers("x", 2, 3, &sum)
	w.Run()
	if sum != 3*want {
		t.Errorf("three workers of burn(2) sum %v, want %v", sum, 3*want)
	}
}

// TestMessageLikeSprintf: message writes what fmt.Sprintf("%v %.3f")
// writes, for the readings' types and odd values.
func TestMessageLikeSprintf(t *testing.T) {
	for _, typ := range []any{"temperature", "sound", "", 7, nil} {
		for _, v := range []any{0.0, -0.0, 12.3456, -9.9995, 1e21, math.Inf(1), math.NaN(), 3, int64(-2), "x", nil} {
			in := fusionsim.Event{"type": typ, "value": v}
			if v == nil {
				delete(in, "value")
			}
			want := fmt.Sprintf("%v %.3f", in["type"], in.Float("value", 0))
			if got := message(in); got != want {
				t.Errorf("message(%v) = %q, want %q", in, got, want)
			}
			if got := prefixedMessage("jam ", in); got != "jam "+want {
				t.Errorf("prefixedMessage(jam, %v) = %q, want %q", in, got, "jam "+want)
			}
		}
	}
}
