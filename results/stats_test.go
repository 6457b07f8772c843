package results

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// summarizeReference is Summarize as it was before SetupStats: every
// record and response in memory, quantiles of sorted slices.
func summarizeReference(setup string, recs []trace.Record, resps []fusionsim.Response, pricing model.Pricing) Row {
	row := Row{Setup: setup, Invocations: len(recs)}
	var lat []float64
	// Billed MB-ms summed as an integer: exact and independent of the
	// records' order.
	var mbms int64
	mem := map[string][]int{}
	roots, killed := 0, 0
	for _, r := range recs {
		mb, _ := strconv.Atoi(r.MemoryAvail)
		mbms += r.BilledDuration * int64(mb)
		if r.IsColdStart {
			row.ColdStarts++
		}
		if !slices.Contains(mem[r.CurrentFunction], mb) {
			mem[r.CurrentFunction] = append(mem[r.CurrentFunction], mb)
		}
		if r.IsRootInvocation {
			roots++
			if r.InternalDuration >= 0 {
				lat = append(lat, float64(r.InternalDuration))
			} else {
				killed++
			}
		}
	}
	row.MedianMs, row.P95Ms, row.P99Ms = Quantiles3(lat)
	row.E2EMedianMs, row.E2EP95Ms = math.NaN(), math.NaN()
	if len(resps) > 0 {
		row.Requests = len(resps)
		var e2e []float64
		for _, r := range resps {
			if Failed(r) {
				row.Errors++
				continue
			}
			e2e = append(e2e, float64(r.Latency())/1e6)
		}
		row.E2EMedianMs, row.E2EP95Ms, _ = Quantiles3(e2e)
	} else {
		row.Requests, row.Errors = roots, killed
	}
	if row.Requests > 0 {
		n := float64(row.Requests)
		// Compute at the first price tier plus every invocation's request
		// fee (model.Pricing.InvocationUSD, summed).
		usd := pricing.ComputeUSD(mbms, 1) + float64(len(recs))*pricing.RequestUSDPerMillion/1e6
		row.GBMsPerRequest = pricing.GBMs(mbms, 1) / n
		row.USDPerMillion = usd / n * 1e6
		row.InvocationsPerRequest = float64(row.Invocations) / n
	}
	if row.Invocations > 0 {
		row.ColdStartShare = float64(row.ColdStarts) / float64(row.Invocations)
	}
	row.Memory = memoryString(mem)
	return row
}

func randomRun(rng *rand.Rand, n int) ([]trace.Record, []fusionsim.Response) {
	fns := []string{"I", "CW", "SE", "AS"}
	recs := make([]trace.Record, n)
	for i := range recs {
		r := &recs[i]
		r.CurrentFunction = fns[rng.IntN(len(fns))]
		r.MemoryAvail = strconv.Itoa([]int{128, 1024, 1536}[rng.IntN(3)])
		r.BilledDuration = rng.Int64N(3000)
		r.IsColdStart = rng.IntN(10) == 0
		r.IsRootInvocation = rng.IntN(3) == 0
		r.InternalDuration = rng.Int64N(2000) - 50
	}
	var resps []fusionsim.Response
	if rng.IntN(4) > 0 {
		t0 := time.Unix(1675209600, 0)
		resps = make([]fusionsim.Response, n/3+1)
		for i := range resps {
			r := &resps[i]
			r.Sent = t0.Add(time.Duration(i) * 100 * time.Millisecond)
			r.Received = r.Sent.Add(time.Duration(rng.Int64N(3e9)))
			r.StatusCode = 200
			if rng.IntN(20) == 0 {
				r.StatusCode = 502
			}
		}
	}
	return recs, resps
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func sameRowExact(a, b Row) bool {
	return a.Setup == b.Setup && a.Requests == b.Requests && a.Invocations == b.Invocations &&
		sameFloat(a.MedianMs, b.MedianMs) && sameFloat(a.P95Ms, b.P95Ms) && sameFloat(a.P99Ms, b.P99Ms) &&
		sameFloat(a.E2EMedianMs, b.E2EMedianMs) && sameFloat(a.E2EP95Ms, b.E2EP95Ms) &&
		sameFloat(a.GBMsPerRequest, b.GBMsPerRequest) && sameFloat(a.USDPerMillion, b.USDPerMillion) &&
		a.ColdStarts == b.ColdStarts && a.Errors == b.Errors &&
		sameFloat(a.InvocationsPerRequest, b.InvocationsPerRequest) && sameFloat(a.ColdStartShare, b.ColdStartShare) && a.Memory == b.Memory
}

// TestStatsRowExact: rows accumulated one record and response at a time,
// in any order, equal what the whole sample gave, float for float; with
// the end-to-end latencies spilled to disk too.
func TestStatsRowExact(t *testing.T) {
	pricing := model.Default().Pricing
	defer func(n int) { ValuesInMemory = n }(ValuesInMemory)
	for _, spill := range []int{1 << 30, 7} {
		ValuesInMemory = spill
		rng := rand.New(rand.NewPCG(5, uint64(spill)))
		for _, n := range []int{0, 1, 2, 3, 19, 20, 100, 1000, 2001} {
			recs, resps := randomRun(rng, n)
			want := summarizeReference("s", recs, resps, pricing)
			st := NewSetupStats()
			for _, i := range rng.Perm(len(recs)) {
				st.AddRecord(&recs[i])
			}
			for _, i := range rng.Perm(len(resps)) {
				st.AddResponse(&resps[i])
			}
			if got := st.Row("s", pricing); !sameRowExact(got, want) {
				t.Fatalf("spill %d, %d records: %+v, want %+v", spill, n, got, want)
			}
			if spill == 7 && len(resps) > 20 && !st.E2E().Spilled() {
				t.Fatalf("%d values in memory, limit %d", st.E2E().Len(), spill)
			}
			st.E2E().Close()
			if got := Summarize("s", recs, resps, pricing); !sameRowExact(got, want) {
				t.Fatalf("Summarize: %+v, want %+v", got, want)
			}
		}
	}
}

// TestValuesNth: order statistics of spilled values, with duplicates and
// wide ranges, equal those of the sorted values.
func TestValuesNth(t *testing.T) {
	defer func(n int) { ValuesInMemory = n }(ValuesInMemory)
	ValuesInMemory = 50
	rng := rand.New(rand.NewPCG(9, 9))
	for _, gen := range []func() int64{
		func() int64 { return rng.Int64N(1e12) },
		func() int64 { return rng.Int64N(3) },
		func() int64 { return 42 },
		func() int64 { return rng.Int64N(1<<62) - 1<<61 },
	} {
		v := NewValues()
		var all []int64
		for i := 0; i < 3000; i++ {
			x := gen()
			v.Add(x)
			all = append(all, x)
		}
		slices.Sort(all)
		for _, k := range []int{0, 1, 1499, 1500, 2850, 2999} {
			got, err := v.Nth(k)
			if err != nil {
				t.Fatal(err)
			}
			if got != all[k] {
				t.Fatalf("Nth(%d) = %d, want %d", k, got, all[k])
			}
		}
		v.Close()
	}
}

// TestCountsNth: Counts' order statistics, distinct values and merge
// against a sorted slice, for values in its array (small, non-negative)
// and in its map (negative, large) mixed.
func TestCountsNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 50; round++ {
		var c, half Counts
		var all []int64
		for i := rng.IntN(3000); i >= 0; i-- {
			var v int64
			switch rng.IntN(4) {
			case 0:
				v = -rng.Int64N(100)
			case 1:
				v = denseMax - 50 + rng.Int64N(100)
			default:
				v = rng.Int64N(5000)
			}
			k := 1 + rng.IntN(3)
			if i%2 == 0 {
				c.AddN(v, k)
			} else {
				half.AddN(v, k)
			}
			for ; k > 0; k-- {
				all = append(all, v)
			}
			if rng.IntN(500) == 0 { // queries between adds
				c.Nth(0)
			}
		}
		c.Merge(&half)
		slices.Sort(all)
		if c.Len() != len(all) {
			t.Fatalf("round %d: Len %d, want %d", round, c.Len(), len(all))
		}
		for k := range all {
			if got := c.Nth(k); got != all[k] {
				t.Fatalf("round %d: Nth(%d) = %d, want %d", round, k, got, all[k])
			}
		}
		var back []int64
		c.Distinct(func(v int64, n int) {
			for ; n > 0; n-- {
				back = append(back, v)
			}
		})
		if !slices.Equal(back, all) {
			t.Fatalf("round %d: Distinct gives %d values, want %d", round, len(back), len(all))
		}
	}
}
