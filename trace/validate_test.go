package trace

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

func validRecord() Record {
	return Record{
		TraceID: "1675344670-A-128-0a1b", FusionGroup: fusionsim.NewTraceName("1675344670"), Source: "A",
		CurrentFunction: "A", CurrentTask: "A", BilledDuration: 12, MemoryAvail: "128", MaxMemoryUsed: 70,
		IsRootInvocation: true, StartTimestamp: 1675344670000, EndTimestamp: 1675344670011, InternalDuration: 11,
		Calls: []fusionsim.Call{{Sync: true, Caller: "A", Called: "B", Time: 3}},
	}
}

// Issue 15: records that are null or {} or carry negative durations were
// summarized silently. They are errors naming the file and the record.
func TestRecordsAreValidated(t *testing.T) {
	good, err := MarshalRecords([]Record{validRecord(), validRecord()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRecords(good); err != nil {
		t.Fatalf("a valid record: %v", err)
	}
	bad := map[string]func(*Record){
		"billedDuration -5 ms is negative":        func(r *Record) { r.BilledDuration = -5 },
		"endTimestamp 1675344669000 is before":    func(r *Record) { r.EndTimestamp = 1675344669000 },
		"internalDuration -7 ms is negative":      func(r *Record) { r.InternalDuration = -7 },
		"calls[0]: time -1 ms is negative":        func(r *Record) { r.Calls[0].Time = -1 },
		"maxMemoryUsed -1 MB is negative":         func(r *Record) { r.MaxMemoryUsed = -1 },
		`fusionGroup: bad setup name: "../x"`:     func(r *Record) { r.FusionGroup = fusionsim.TraceName{Name: "../x"} },
		`memoryAvail "lots" is not a memory size`: func(r *Record) { r.MemoryAvail = "lots" },
		"currentFunction: empty task name":        func(r *Record) { r.CurrentFunction = "" },
		"startTimestamp 0 is not a time":          func(r *Record) { r.StartTimestamp, r.EndTimestamp = 0, 0 },
		"calls[0]: no caller or called task":      func(r *Record) { r.Calls[0].Called = "" },
	}
	dir := t.TempDir()
	for want, edit := range bad {
		r := validRecord()
		edit(&r)
		b, err := MarshalRecords([]Record{validRecord(), r})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "1675344670.json")
		os.WriteFile(path, b, 0o644)
		_, err = ReadTraceFile(path)
		if err == nil || !strings.Contains(err.Error(), path+": traces: record 1: "+want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	for _, in := range []string{`[null]`, `[{}]`, `[{"traceId":""}]`} {
		_, err := ParseRecords([]byte(in))
		if err == nil || !strings.Contains(err.Error(), "record 0: no traceId (a null or {} record?)") {
			t.Errorf("%s: %v", in, err)
		}
	}
	// -1 marks an invocation the platform killed: valid.
	r := validRecord()
	r.InternalDuration = -1
	if err := ValidateRecord(&r); err != nil {
		t.Error(err)
	}
}

// Issue 15: a 4.6 MB gzip bomb as a trace took 2.7 GB before failing (the
// limit was 8 GiB decompressed). Input may decompress to 64 times its size.
func TestGzipBombIsCapped(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte("["))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 80 { // 80 MiB of white space: valid JSON so far, and 1000 times smaller compressed
		zw.Write(chunk)
	}
	zw.Write([]byte("]"))
	zw.Close()
	path := filepath.Join(t.TempDir(), "bomb.json.gz")
	os.WriteFile(path, buf.Bytes(), 0o644)
	_, err := ReadTraceFile(path)
	if err == nil || !strings.Contains(err.Error(), "decompresses to more than 67108864 bytes") {
		t.Fatalf("%d compressed bytes: %v", buf.Len(), err)
	}
	if GzipLimit(1<<20) != 64<<20 || GzipLimit(100<<20) != 6400<<20 {
		t.Errorf("GzipLimit: %d %d", GzipLimit(1<<20), GzipLimit(100<<20))
	}
}

// Trace files are named by setup: a file name that is not a setup name is
// an error naming it.
func TestTraceFileNamesAreSetupNames(t *testing.T) {
	dir := t.TempDir()
	b, _ := MarshalRecords([]Record{validRecord()})
	os.WriteFile(filepath.Join(dir, "my-notes.json"), b, 0o644)
	if _, err := ReadTraces(dir); err == nil || !strings.Contains(err.Error(), "my-notes.json: the file name is not a setup name") {
		t.Errorf("ReadTraces: %v", err)
	}
}
