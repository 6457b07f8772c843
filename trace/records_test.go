package trace_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// TestRecordsEqualText runs every workload with its log written both as
// text and as records, and checks that each record formats to its line and
// that extracting the records directly gives the same traces, counters and
// problems as parsing the text, with and without the prototype's grouping.
// A short timeout makes some invocations time out, so that the runtime's
// own lines are covered too.
func TestRecordsEqualText(t *testing.T) {
	for _, w := range appfile.All() { // the Go workloads and the built-in files that have no Go code (webshop)
		for _, timeout := range []time.Duration{0, 150 * time.Millisecond} {
			t.Run(w.Name()+"/timeout="+timeout.String(), func(t *testing.T) {
				text := emulator.NewMemorySink()
				var recs []fusionsim.LogRecord
				var lines []string
				var f fusionsim.LineFormatter
				em, err := emulator.New(emulator.Config{App: w.App, Seed: 7, Log: text, Timeout: timeout,
					Records: fusionsim.RecordSinkFunc(func(r *fusionsim.LogRecord) {
						recs = append(recs, *r)
						lines = append(lines, string(f.Append(nil, r)))
					})})
				if err != nil {
					t.Fatal(err)
				}
				defer em.Close()
				arrivals, err := load.Constant(10, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				load.WithEvent(arrivals, w.Event)
				for _, mk := range []func() (*fusionsim.Setup, error){
					func() (*fusionsim.Setup, error) { return workloads.Remote(w.App, "remote", 0) },
					func() (*fusionsim.Setup, error) { return workloads.Local(w.App, "local") },
				} {
					s, err := mk()
					if err != nil {
						t.Fatal(err)
					}
					route, err := workloads.EntryRoute(w.App, s)
					if err != nil {
						t.Fatal(err)
					}
					if err := em.Deploy(context.Background(), s); err != nil {
						t.Fatal(err)
					}
					if _, err := em.Run(context.Background(), route, arrivals); err != nil {
						t.Fatal(err)
					}
				}
				// Every record is its text line.
				byFn := map[string][]string{}
				for i, r := range recs {
					byFn[r.Function] = append(byFn[r.Function], lines[i])
					if got := string(r.AppendLine(nil)); got != lines[i] {
						t.Fatalf("record %d: AppendLine %q, LineFormatter %q", i, got, lines[i])
					}
				}
				var all []fusionsim.LogLine
				if err := text.ReadLines(time.Time{}, time.Unix(1<<40, 0), func(l fusionsim.LogLine) error {
					all = append(all, l)
					want := byFn[l.Function]
					if len(want) == 0 || want[0] != l.Text {
						t.Fatalf("%s: text line %q, record gives %v", l.Function, l.Text, want[:min(1, len(want))])
					}
					byFn[l.Function] = want[1:]
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if len(all) != len(recs) {
					t.Fatalf("%d text lines, %d records", len(all), len(recs))
				}
				for _, grouping := range []bool{false, true} {
					opt := trace.Options{GroupByFunction: grouping}
					fromText := trace.Extract(all, opt)
					x := trace.NewExtractor(opt)
					for i := range recs {
						x.AddRecord(&recs[i])
					}
					fromRecs := x.Finish()
					if fromText.Invocations == 0 {
						t.Fatal("no invocations extracted")
					}
					if timeout > 0 && fromText.Foreign == 0 {
						t.Error("a timeout of", timeout, "gave no runtime lines")
					}
					if !reflect.DeepEqual(fromText.Traces, fromRecs.Traces) {
						t.Errorf("grouping %v: traces differ", grouping)
					}
					if !grouping {
						// Streamed as they complete: the same records
						// once sorted, the same counters.
						xs := trace.NewExtractor(opt)
						bySetup := map[string][]trace.KeyedRecord{}
						if err := xs.Stream(func(k *trace.KeyedRecord) {
							bySetup[k.FusionGroup.Name] = append(bySetup[k.FusionGroup.Name], *k)
						}); err != nil {
							t.Fatal(err)
						}
						for i := range recs {
							xs.AddRecord(&recs[i])
						}
						streamed := xs.Finish()
						got := trace.Traces{}
						for name, ks := range bySetup {
							trace.SortKeyed(ks)
							for _, k := range ks {
								got[name] = append(got[name], k.Record)
							}
						}
						if !reflect.DeepEqual(got, fromRecs.Traces) {
							t.Errorf("streamed traces differ")
						}
						streamed.Problems = nil
						want := *fromRecs
						want.Traces, want.Problems = nil, nil
						streamed.Traces = nil
						if !reflect.DeepEqual(*streamed, want) {
							t.Errorf("streamed counters differ: %+v, want %+v", *streamed, want)
						}
					}
					fromText.Traces, fromRecs.Traces = nil, nil
					fromText.Problems, fromRecs.Problems = nil, nil // same problems, in another order
					if !reflect.DeepEqual(fromText, fromRecs) {
						t.Errorf("grouping %v: counters differ: text %+v, records %+v", grouping, fromText, fromRecs)
					}
				}
			})
		}
	}
}
