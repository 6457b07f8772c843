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
	app := workloads.IoT().App
	setup, err := workloads.Remote(app, "remote", 128)
	if err != nil {
		b.Fatal(err)
	}
	sink := emulator.NewMemorySink()
	em, err := emulator.New(emulator.Config{App: app, Seed: 1, Log: sink})
	if err != nil {
		b.Fatal(err)
	}
	defer em.Close()
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
	var lines []fusionsim.LogLine
	sink.ReadLines(time.Time{}, em.Now().Add(time.Second), func(l fusionsim.LogLine) error {
		lines = append(lines, l)
		return nil
	})
	b.ReportMetric(float64(len(lines)), "lines/op")
	b.ResetTimer()
	for range b.N {
		ext := Extract(lines, Options{})
		if ext.Invocations != 11000 {
			b.Fatalf("%d invocations", ext.Invocations)
		}
	}
}

// BenchmarkExtractRecordsIoT streams the log records of 1,000 IoT requests
// in the all-remote setup (11,000 invocations) through the extractor, as
// a run does (experiment: the emulator's records, no text).
func BenchmarkExtractRecordsIoT(b *testing.B) {
	app := workloads.IoT().App
	setup, err := workloads.Remote(app, "remote", 128)
	if err != nil {
		b.Fatal(err)
	}
	var recs []fusionsim.LogRecord
	em, err := emulator.New(emulator.Config{App: app, Seed: 1,
		Records: fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) { recs = append(recs, *r) })})
	if err != nil {
		b.Fatal(err)
	}
	defer em.Close()
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
	b.ReportMetric(float64(len(recs)), "records/op")
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
}

// BenchmarkRecordWriterIoT writes the trace file of 1,000 IoT requests in
// the all-remote setup (11,000 records), gzip-compressed, as a run does.
func BenchmarkRecordWriterIoT(b *testing.B) {
	app := workloads.IoT().App
	setup, err := workloads.Remote(app, "remote", 128)
	if err != nil {
		b.Fatal(err)
	}
	x := NewExtractor(Options{})
	var keyed []KeyedRecord
	x.Stream(func(k *KeyedRecord) { keyed = append(keyed, *k) })
	em, err := emulator.New(emulator.Config{App: app, Seed: 1, Records: fusionsim.RecordSinkFunc(x.AddRecord)})
	if err != nil {
		b.Fatal(err)
	}
	defer em.Close()
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
