package emulator

import (
	"math/rand/v2"
	"testing"
	"time"
)

// countActor counts its firings.
type countActor struct{ n uint64 }

func (a *countActor) fire(_ *Emulator, arg uint64) { a.n += arg }

// TestKernelOrder: the kernel runs events in the order of (time,
// sequence number), an event scheduled for the past or now counting as
// now, against a brute-force queue.
func TestKernelOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var k kernel
	a := &countActor{}
	type ev struct {
		at  time.Duration
		seq uint64
	}
	var ref []ev // the brute-force queue
	seq := uint64(0)
	for round := 0; round < 2000; round++ {
		for i := rng.IntN(8); i >= 0; i-- {
			at := k.now + time.Duration(rng.IntN(5)-1)*time.Millisecond
			seq++
			k.push(event{at: at, act: a, arg: seq})
			ref = append(ref, ev{max(at, k.now), seq})
		}
		for i := rng.IntN(10); i >= 0 && !k.empty(); i-- {
			m := 0
			for j := range ref {
				if ref[j].at < ref[m].at || ref[j].at == ref[m].at && ref[j].seq < ref[m].seq {
					m = j
				}
			}
			want := ref[m]
			ref = append(ref[:m], ref[m+1:]...)
			sl := k.pop()
			if sl.arg != want.seq || k.now != want.at {
				t.Fatalf("round %d: popped event %d at %v, want event %d at %v", round, sl.arg, k.now, want.seq, want.at)
			}
		}
	}
}

// BenchmarkKernel: pushes and pops as a run does them, a queue of about
// 500 events ahead, each popped event scheduling the next one 0-5 ms on.
func BenchmarkKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var k kernel
	a := &countActor{}
	for i := 0; i < 500; i++ {
		k.push(event{at: time.Duration(rng.IntN(5e6)), act: a, arg: 1})
	}
	delays := make([]time.Duration, 4096)
	for i := range delays {
		delays[i] = time.Duration(rng.IntN(5e6))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sl := k.pop()
		sl.act.fire(nil, sl.arg)
		k.push(event{at: k.now + delays[i&4095], act: a, arg: 1})
	}
}
