package trace

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/workloads"
)

// BenchmarkExtractIoT extracts the traces of 1,000 IoT requests in the
// all-remote setup (11,000 invocations, about 100,000 log lines).
func BenchmarkExtractIoT(b *testing.B) {
	sink := emulator.NewMemorySink()
	em := runIoT(b, emulator.Config{Log: sink})
	var lines []fusionsim.LogLine
	sink.ReadLines(time.Time{}, em.Now().Add(time.Second), func(l fusionsim.LogLine) error {
		lines = append(lines, l)
		return nil
	})
	b.ResetTimer()
	for range b.N {
		ext := Extract(lines, Options{})
		if ext.Invocations != 11000 {
			b.Fatalf("%d invocations", ext.Invocations)
		}
	}
	b.ReportMetric(float64(len(lines)), "lines/op") // after ResetTimer, which drops metrics
}

// BenchmarkExtractRecordsIoT streams the log records of 1,000 IoT requests
// in the all-remote setup (11,000 invocations) through the extractor, as
// a run does (experiment: the emulator's records, no text).
func BenchmarkExtractRecordsIoT(b *testing.B) {
	var recs []fusionsim.LogRecord
	runIoT(b, emulator.Config{Records: fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) { recs = append(recs, *r) })})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		x := NewExtractor(Options{})
		n := 0
		x.Stream(func(*KeyedRecord) { n++ })
		for i := range recs {
			x.AddRecord(&recs[i])
		}
		if x.Finish(); n != 11000 {
			b.Fatalf("%d invocations", n)
		}
	}
	b.ReportMetric(float64(len(recs)), "records/op")
}

// BenchmarkRecordWriterIoT writes the trace file of 1,000 IoT requests in
// the all-remote setup (11,000 records), gzip-compressed, as a run does.
func BenchmarkRecordWriterIoT(b *testing.B) {
	x := NewExtractor(Options{})
	var keyed []KeyedRecord
	x.Stream(func(k *KeyedRecord) { keyed = append(keyed, *k) })
	runIoT(b, emulator.Config{Records: fusionsim.RecordSinkFunc(x.AddRecord)})
	SortKeyed(keyed)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rw := NewRecordWriter(io.Discard, true)
		for i := range keyed {
			if err := rw.Write(&keyed[i].Record); err != nil {
				b.Fatal(err)
			}
		}
		if err := rw.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// runIoT runs 1,000 IoT requests (one every 100 ms) in the all-remote
// setup at 128 MB on an emulator made with cfg (its App and Seed set
// here), 11,000 invocations; its logs go to cfg's sinks.
func runIoT(b *testing.B, cfg emulator.Config) *emulator.Emulator {
	b.Helper()
	cfg.App, cfg.Seed = workloads.IoT().App, 1
	setup, err := workloads.Remote(cfg.App, "remote", 128)
	if err != nil {
		b.Fatal(err)
	}
	em, err := emulator.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { em.Close() })
	ctx := context.Background()
	if err := em.Deploy(ctx, setup); err != nil {
		b.Fatal(err)
	}
	arrivals := make([]fusionsim.Arrival, 1000)
	for i := range arrivals {
		arrivals[i].At = time.Duration(i) * 100 * time.Millisecond
	}
	if _, err := em.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), arrivals); err != nil {
		b.Fatal(err)
	}
	return em
}
