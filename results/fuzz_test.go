package results

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzReadCSV: summary.csv never panics the reader; what it accepts is
// written back (WriteFullCSV) in a form that reads back and writes the
// same bytes again.
func FuzzReadCSV(f *testing.F) {
	if b, err := os.ReadFile("testdata/split-coldStarts-derived/summary-full.csv"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(strings.Join(FullHeader, ",") + "\na_remote,40,280,4761,4987,4987,5019,5038,2.5,3.1,280,1,7,1,A:128\n"))
	f.Add([]byte(strings.Join(Header, ",") + "\nx,1,1,,,,,,0,0,0,0\n"))
	f.Add([]byte("setup\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		if err := WriteFullCSV(&once, rows); err != nil {
			t.Fatalf("accepted rows do not write: %v", err)
		}
		back, err := ReadCSV(bytes.NewReader(once.Bytes()))
		if err != nil || len(back) != len(rows) {
			t.Fatalf("written as %q: %d rows, %v", once.String(), len(back), err)
		}
		if err := WriteFullCSV(&twice, back); err != nil || !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("not stable:\n%s\n%s", once.String(), twice.String())
		}
	})
}

// FuzzReadResponses: responses/<setup>.csv never panics the reader; what it
// accepts is written back (writeResponses) as the same lines.
func FuzzReadResponses(f *testing.F) {
	f.Add([]byte("sent_unix_ns,latency_ns,status,request_id,error\n1675411200000000000,5000000000,200,ra,\n1675411239000000000,5039000000,502,rm,\"function A-128: Error: boom, \"\"quoted\"\"\"\n"))
	f.Add([]byte("sent_unix_ns,latency_ns,status,request_id,error\n"))
	f.Add([]byte("a,b\n"))
	f.Add([]byte("sent_unix_ns,latency_ns,status,request_id,error,kind,trace_id\n1675411200000000000,5000000000,200,ra,,get,s-A-128-ab\n1675411200000000000,0,0,,dropped iteration: no free virtual user,checkout,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		resps, err := parseResponses(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		path := t.TempDir() + "/r.csv"
		if err := writeResponses(path, resps); err != nil {
			t.Fatalf("accepted responses do not write: %v", err)
		}
		back, err := readResponses(path)
		if err != nil || len(back) != len(resps) {
			t.Fatalf("read back: %d, %v", len(back), err)
		}
		for i := range back {
			a, b := back[i], resps[i]
			if !a.Sent.Equal(b.Sent) || a.Latency() != b.Latency() || a.StatusCode != b.StatusCode || a.RequestID != b.RequestID || (a.Err == nil) != (b.Err == nil) || (a.Err != nil && a.Err.Error() != b.Err.Error()) {
				t.Fatalf("line %d: %+v read back as %+v", i, b, a)
			}
			if a.Dropped() != b.Dropped() || (HasKinds(resps) && (a.Kind != b.Kind || a.TraceID != b.TraceID)) {
				t.Fatalf("line %d: %+v read back as %+v", i, b, a)
			}
		}
	})
}

// FuzzReadKindsCSV: summary-kinds.csv never panics the reader; what it
// accepts is written back as rows that read the same.
func FuzzReadKindsCSV(f *testing.F) {
	f.Add([]byte("setup,kind,requests,dropped,median_ms,p95_ms,e2e_median_ms,e2e_p95_ms,gbms_per_request,errors\ns1,a,3,1,140,190,170,220,16.667,1\ns1,all,5,2,,,,,,1\n"))
	f.Add([]byte("setup,kind\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadKindsCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteKindsCSV(&b, rows); err != nil {
			t.Fatal(err)
		}
		back, err := ReadKindsCSV(&b)
		if err != nil || len(back) != len(rows) {
			t.Fatalf("read back: %d rows of %d, %v", len(back), len(rows), err)
		}
		for i := range rows {
			x, y := rows[i].record(), back[i].record()
			if strings.Join(x, ",") != strings.Join(y, ",") {
				t.Fatalf("row %d: %v read back as %v", i, x, y)
			}
		}
	})
}
