package emulator

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// bareLoop is the baseline of the emulator benchmarks, the "bare heap
// event loop" of the speed issue: a textbook discrete-event simulation
// (events as closures in a container/heap ordered by time and sequence
// number) that models nothing, logs nothing and runs no task code. It
// does the emulator's event work and no more: the same requests, scheduled
// one at a time 50 ms apart as Run schedules open-loop arrivals (so its
// heap stays as short as the emulator's), each request a chain of as many
// events as the emulator's kernel ran for it in the same benchmark, each
// event drawing one latency from a PCG source, as the emulator draws its
// latencies, and scheduling the next.
type bareLoop struct {
	now time.Duration
	seq uint64
	q   bareQueue
	rng *rand.Rand
	ran int
}

type bareEvent struct {
	at  time.Duration
	seq uint64
	fn  func()
}

type bareQueue []*bareEvent

func (q bareQueue) Len() int { return len(q) }
func (q bareQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q bareQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bareQueue) Push(x any)   { *q = append(*q, x.(*bareEvent)) }
func (q *bareQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

func (l *bareLoop) at(t time.Duration, fn func()) {
	l.seq++
	heap.Push(&l.q, &bareEvent{at: t, seq: l.seq, fn: fn})
}

// run runs requests requests, events events in all (spread evenly over
// the requests), and returns the CPU time it took.
func (l *bareLoop) run(requests, events int) time.Duration {
	var chain func(left int)
	chain = func(left int) {
		if left--; left <= 0 {
			return
		}
		d := time.Duration(l.rng.Float64() * float64(2*time.Millisecond))
		l.at(l.now+d, func() { chain(left) })
	}
	var arrive func(i int)
	arrive = func(i int) {
		chain((i+1)*events/requests - i*events/requests)
		if i+1 < requests {
			l.at(time.Duration(i+1)*50*time.Millisecond, func() { arrive(i + 1) })
		}
	}
	l.at(0, func() { arrive(0) })
	cpu0 := cpuTime()
	for l.q.Len() > 0 {
		e := heap.Pop(&l.q).(*bareEvent)
		l.now = e.at
		e.fn()
		l.ran++
	}
	return cpuTime() - cpu0
}

// benchVsBare runs the emulator benchmark, then the bare loop on the same
// number of requests and events, in the same process, and reports both
// rates (invocations per CPU second) and their ratio (emulator / bare
// loop), the figure of the speed issue. ns/op is the emulator's.
func benchVsBare(b *testing.B, app *fusionsim.App, route string, perRequest int, withLogs, withRecords bool) {
	r := runBench(b, app, route, perRequest, withLogs, withRecords)
	l := &bareLoop{rng: rand.New(rand.NewPCG(1, 2))}
	cpu := l.run(b.N, r.events)
	if l.ran != r.events {
		b.Fatalf("the bare loop ran %d events, want %d", l.ran, r.events)
	}
	em := float64(r.invocations) / r.cpu.Seconds()
	bare := float64(r.invocations) / cpu.Seconds()
	b.ReportMetric(em, "emulator-invocations/cpu-s")
	b.ReportMetric(bare, "bare-loop-invocations/cpu-s")
	b.ReportMetric(em/bare, "emulator/bare-loop")
	b.ReportMetric(float64(r.events)/float64(r.invocations), "events/invocation")
	b.ReportMetric(float64(r.allocs)/float64(r.events), "allocs/event")
}

// BenchmarkVsBareLoop compares the emulator with the bare loop, with log
// records (the emulator's output, what the closed loop reads) and with
// every record formatted as a Lambda log line.
func BenchmarkVsBareLoop(b *testing.B) {
	for _, c := range []struct {
		name       string
		app        *fusionsim.App
		route      string
		perRequest int
	}{
		{"Chain5Sync", chainApp(5), "SYNC-T0-1024", 6},
		{"FanOut10Async", fanOutApp(10), "SYNC-F-1024", 11},
	} {
		b.Run(c.name+"/records", func(b *testing.B) { benchVsBare(b, c.app, c.route, c.perRequest, false, true) })
		b.Run(c.name+"/lines", func(b *testing.B) { benchVsBare(b, c.app, c.route, c.perRequest, true, false) })
	}
}
