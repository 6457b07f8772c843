package trace

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// marshalStd is what MarshalRecords wrote with encoding/json.
func marshalStd(t *testing.T, recs []Record) []byte {
	t.Helper()
	if recs == nil {
		recs = []Record{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(recs); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

func randomRecords(rng *rand.Rand, n int) []Record {
	strs := []string{"", "I", "CW", "1675209600-I-128-0123456789abcdef0123456789abcdef", "a<b>&c", "é\u2028\u2029", "q\"\\\t\n\x01", "\xff\xfe", "1675209600"}
	pick := func() string {
		if rng.IntN(3) == 0 {
			b := make([]byte, rng.IntN(40))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		}
		return strs[rng.IntN(len(strs))]
	}
	recs := make([]Record, n)
	for i := range recs {
		r := &recs[i]
		r.TraceID, r.Source, r.CurrentFunction, r.CurrentTask, r.MemoryAvail = pick(), pick(), pick(), pick(), pick()
		if rng.IntN(2) == 0 {
			r.FusionGroup = fusionsim.NewTraceName("1675209600")
		} else {
			r.FusionGroup = fusionsim.TraceName{Name: pick()}
		}
		r.BilledDuration, r.MaxMemoryUsed = rng.Int64N(1e6)-10, rng.IntN(10240)
		r.IsRootInvocation, r.IsColdStart = rng.IntN(2) == 0, rng.IntN(2) == 0
		r.StartTimestamp = 1675209600000 + rng.Int64N(1e7)
		r.EndTimestamp = r.StartTimestamp + rng.Int64N(1e5)
		r.InternalDuration = rng.Int64N(1e5) - 1
		switch rng.IntN(4) {
		case 0:
		case 1:
			r.Calls = []fusionsim.Call{}
		default:
			for k := rng.IntN(8); k >= 0; k-- {
				r.Calls = append(r.Calls, fusionsim.Call{Local: rng.IntN(2) == 0, Sync: rng.IntN(2) == 0, Caller: pick(), Called: pick(), Time: rng.Int64N(5000) - 1})
			}
		}
	}
	return recs
}

// TestMarshalRecordsLikeJSON: the append-style encoder writes exactly what
// encoding/json wrote, and the gzip RecordWriter decompresses to it.
func TestMarshalRecordsLikeJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 10, 3000} {
		recs := randomRecords(rng, n)
		if n == 0 {
			recs = nil
		}
		want := marshalStd(t, recs)
		got, err := MarshalRecords(recs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d records: MarshalRecords differs from encoding/json:\n%.300s\n%.300s", n, got, want)
		}
		var buf bytes.Buffer
		rw := NewRecordWriter(&buf, true)
		for i := range recs {
			if err := rw.Write(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, want) {
			t.Fatalf("%d records: the gzip file decompresses to other bytes", n)
		}
	}
	// A numeric name that is not a canonical integer is an error, as with
	// encoding/json.
	if _, err := MarshalRecords([]Record{{FusionGroup: fusionsim.TraceName{Name: "007", Numeric: true}}}); err == nil {
		t.Error("MarshalRecords accepted the numeric name 007")
	}
}
