package trace

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// TestSorter: records come out in SortKeyed's order, equal to what went
// in, whether they fit in memory or went to disk in several runs.
func TestSorter(t *testing.T) {
	defer func(n int) { RecordsInMemory = n }(RecordsInMemory)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, limit := range []int{1 << 20, 1, 7, 100} {
		RecordsInMemory = limit
		for _, n := range []int{0, 1, 5, 1000} {
			recs := randomRecords(rng, n)
			var s Sorter
			var all []KeyedRecord
			for i := range recs {
				recs[i].StartTimestamp = 1675209600000 + rng.Int64N(50) // many ties
				k := KeyedRecord{recs[i], "req-" + strconv.Itoa(rng.IntN(1<<30))}
				all = append(all, k)
				if err := s.Add(&k); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != n {
				t.Fatalf("Len %d, want %d", s.Len(), n)
			}
			SortKeyed(all)
			var got []KeyedRecord
			if err := s.Each(func(k *KeyedRecord) error {
				got = append(got, *k)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(all) {
				t.Fatalf("limit %d: %d records back, want %d", limit, len(got), len(all))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], all[i]) {
					t.Fatalf("limit %d, n %d: record %d: %+v, want %+v", limit, n, i, got[i], all[i])
				}
			}
		}
	}
}

// TestSortByKey: records and ids sorted apart come out as SortKeyed sorts
// them together, ties kept in order.
func TestSortByKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{0, 1, 2, 9, 500} {
		recs := randomRecords(rng, n)
		ids := make([]string, n)
		var all []KeyedRecord
		for i := range recs {
			recs[i].StartTimestamp = 1675209600000 + rng.Int64N(20) // many ties
			ids[i] = "req-" + strconv.Itoa(rng.IntN(3))
			all = append(all, KeyedRecord{recs[i], ids[i]})
		}
		SortKeyed(all)
		SortByKey(recs, ids)
		for i := range all {
			if !reflect.DeepEqual(recs[i], all[i].Record) || ids[i] != all[i].RequestID {
				t.Fatalf("n %d: record %d differs from SortKeyed's", n, i)
			}
		}
	}
}

// TestSorterTruncatedRun: a spilled run cut anywhere inside a record is an
// error, not a shorter run.
func TestSorterTruncatedRun(t *testing.T) {
	defer func(n int) { RecordsInMemory = n }(RecordsInMemory)
	RecordsInMemory = 2
	recs := randomRecords(rand.New(rand.NewPCG(7, 11)), 2)
	recs[0].StartTimestamp, recs[1].StartTimestamp = 1, 2
	recs[1].Calls = []fusionsim.Call{{Caller: "A", Called: "B", Time: 5, Sync: true}, {Caller: "B", Called: "C", Time: 9}}
	last := len(appendKeyed(nil, &KeyedRecord{recs[1], "req-1"}))
	for cut := 1; cut < last; cut++ {
		var s Sorter
		for i := range recs {
			if err := s.Add(&KeyedRecord{recs[i], "req-" + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if len(s.runs) != 1 {
			t.Fatalf("%d runs spilled, want 1", len(s.runs))
		}
		fi, err := s.runs[0].Stat()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.runs[0].Truncate(fi.Size() - int64(cut)); err != nil {
			t.Fatal(err)
		}
		n := 0
		err = s.Each(func(*KeyedRecord) error { n++; return nil })
		if err == nil {
			t.Fatalf("cut %d bytes before the end: no error, %d records", cut, n)
		}
	}
}
