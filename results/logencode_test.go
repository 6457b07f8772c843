package results

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/internal/gzref"
	"github.com/fusionsim/fusionsim/workloads"
)

// workloadRecords runs every workload's remote setup (100 requests, 10
// per second) and returns the log records the emulator wrote, copied.
func workloadRecords(t testing.TB, requests int) []fusionsim.LogRecord {
	t.Helper()
	var recs []fusionsim.LogRecord
	for _, w := range workloads.All() {
		em, err := emulator.New(emulator.Config{App: w.App, Seed: 3,
			Records: fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) { recs = append(recs, *r) })})
		if err != nil {
			t.Fatal(err)
		}
		setup, err := workloads.Remote(w.App, "1675209600", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := em.Deploy(context.Background(), setup); err != nil {
			t.Fatal(err)
		}
		route, err := workloads.EntryRoute(w.App, setup)
		if err != nil {
			t.Fatal(err)
		}
		arr := make([]fusionsim.Arrival, requests)
		for i := range arr {
			arr[i] = fusionsim.Arrival{At: time.Duration(i) * 100 * time.Millisecond, Event: w.Event}
		}
		if _, err := em.Run(context.Background(), route, arr); err != nil {
			t.Fatal(err)
		}
		em.Close()
	}
	return recs
}

// oddRecords are records of every kind with text that needs escaping,
// errors, timeouts and cold starts.
func oddRecords() []fusionsim.LogRecord {
	id := "8eeb4644-a850-4b11-8bcb-47251e6e7049"
	fn := "fusion-function-I-128"
	t0 := int64(1675209600123456789)
	return []fusionsim.LogRecord{
		{Kind: fusionsim.LogStart, Function: fn, Time: t0, RequestID: id},
		{Kind: fusionsim.LogMessage, Function: fn, Time: t0, RequestID: id, TraceID: "x-\"q\"\\", Source: "I", Type: fusionsim.MsgInit,
			Init: fusionsim.InitContent{IsRootInvocation: true, FusionGroup: "g<&>\u2028", MemoryAvail: "128"}},
		{Kind: fusionsim.LogInfo, Function: fn, Time: t0 + 1e6, RequestID: id, Text: "hello\tworld \xff"},
		{Kind: fusionsim.LogInfo, Function: fn, Time: t0 + 1e6, RequestID: id, Text: "FSMSG{not json"},
		{Kind: fusionsim.LogMessage, Function: fn, Time: t0 + 2e9, RequestID: id, TraceID: "x-\"q\"\\", Source: "I", Type: fusionsim.MsgCall,
			Call: fusionsim.Call{Local: true, Sync: false, Caller: "I", Called: "C\n", Time: -3}},
		{Kind: fusionsim.LogMessage, Function: fn, Time: t0 + 2e9, RequestID: id, TraceID: "x", Source: "I", Type: "odd-type", Ms: -12},
		{Kind: fusionsim.LogError, Function: fn, Time: t0 + 3e9, RequestID: id, ErrorType: "Error", Text: "boom \"x\""},
		{Kind: fusionsim.LogRuntime, Function: fn, Time: t0 + 3e9, RequestID: id, Text: "Task timed out after 3.00 seconds"},
		{Kind: fusionsim.LogEnd, Function: fn, Time: t0 + 3e9, RequestID: id},
		{Kind: fusionsim.LogReport, Function: fn, Time: t0 + 3e9, RequestID: id, Report: fusionsim.Report{RequestID: id,
			Duration: 3000004999, BilledMs: 3000, MemoryMB: 128, MaxMemoryUsedMB: 128, InitDuration: 123456789, Status: "timeout"}},
		{Kind: fusionsim.LogReport, Function: fn, Time: t0 + 4e9, RequestID: "other", Report: fusionsim.Report{RequestID: "other",
			Duration: 5000, BilledMs: 1, MemoryMB: 10240, MaxMemoryUsedMB: 1, Status: "error", ErrorType: "Runtime.OutOfMemory"}},
		{Kind: fusionsim.LogEnd, Function: fn, Time: -1, RequestID: "late"},
		{Kind: fusionsim.LogMessage, Function: fn, Time: -1500000, RequestID: "late", TraceID: "t", Source: "S", Type: fusionsim.MsgTimeBase, Ms: 7},
	}
}

// TestLogEncoderLines: the gzip logs written from records decompress to
// exactly the lines fusionsim.LineFormatter makes, for every workload and
// for odd records.
func TestLogEncoderLines(t *testing.T) {
	recs := append(workloadRecords(t, 100), oddRecords()...)
	dir := t.TempDir()
	lf, err := NewLogFilesGzip(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	var f fusionsim.LineFormatter
	for i := range recs {
		r := &recs[i]
		if err := lf.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
		want[r.Function] = append(f.Append(want[r.Function], r), '\n')
	}
	if err := lf.Close(); err != nil {
		t.Fatal(err)
	}
	for fn, w := range want {
		data, err := os.ReadFile(filepath.Join(dir, fn+".log.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, w) {
			i := 0
			for i < len(got) && i < len(w) && got[i] == w[i] {
				i++
			}
			t.Fatalf("%s: differs at byte %d of %d: got %q, want %q", fn, i, len(w), got[max(0, i-40):min(len(got), i+40)], w[max(0, i-40):min(len(w), i+40)])
		}
	}
}

// BenchmarkLogEncoder: the IoT workload's log records as gzip logs (no
// files: the CPU of compressing the main job's logs), per record and per
// CPU second.
func BenchmarkLogEncoder(b *testing.B) {
	recs := workloadRecords(b, 300)
	var text int
	var f fusionsim.LineFormatter
	for i := range recs {
		text += len(f.Append(nil, &recs[i])) + 1
	}
	b.SetBytes(int64(text))
	var size int
	bufs := map[string]*bytes.Buffer{}
	zws := map[string]*gzref.Writer{}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		encs := map[string]*logEncoder{}
		for j := range recs {
			r := &recs[j]
			e := encs[r.Function]
			if e == nil {
				if bufs[r.Function] == nil {
					bufs[r.Function] = new(bytes.Buffer)
					zws[r.Function] = gzref.NewWriter(nil)
				}
				bufs[r.Function].Reset()
				zws[r.Function].Reset(bufs[r.Function])
				e = newLogEncoder(zws[r.Function])
				encs[r.Function] = e
			}
			e.write(r)
		}
		size = 0
		for fn, z := range zws {
			z.Close()
			size += bufs[fn].Len()
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(recs)), "cpu-ns/record")
	b.ReportMetric(float64(b.N*text)/cpu.Seconds()/1e6, "text-MB/cpu-s")
	b.ReportMetric(float64(size)/float64(text), "compressed/text")
}

// cpuTime is the process's CPU time so far (user+sys).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirSize(t testing.TB, dir string) int64 {
	var n int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}
