package lambdaapi

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/fusionsim/fusionsim/trace"
)

// liveTraces extracts the traces of GET /emulator/traces incrementally:
// each call reads only what the log files gained since the previous one,
// and one extractor keeps the invocations still running between calls, so
// every line is parsed once however often the traces are asked for.
type liveTraces struct {
	mu      sync.Mutex
	x       *trace.Extractor
	read    map[string]int64 // bytes of each log file read so far, by path
	lineNos map[string]int   // lines of each log file read so far
	parsed  int              // lines parsed in all
	recs    map[string][]trace.KeyedRecord
	roots   map[string]int
	sorted  map[string]bool
}

func newLiveTraces() *liveTraces {
	return &liveTraces{
		x:    trace.NewExtractor(trace.Options{}),
		read: map[string]int64{}, lineNos: map[string]int{},
		recs: map[string][]trace.KeyedRecord{}, roots: map[string]int{}, sorted: map[string]bool{},
	}
}

// update reads the lines files gained (a snapshot: every file flushed up to
// Bytes, at a line boundary) and takes the invocations they completed.
// Call it with lt.mu held.
func (lt *liveTraces) update(files []logFile) error {
	for _, f := range files {
		off := lt.read[f.Path]
		if f.Bytes <= off {
			continue
		}
		fh, err := os.Open(f.Path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(io.NewSectionReader(fh, off, f.Bytes-off))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		n := lt.lineNos[f.Path]
		for sc.Scan() {
			n++
			lt.x.Add(f.Path, f.Function, n, time.Time{}, sc.Text())
		}
		err = sc.Err()
		fh.Close()
		lt.parsed += n - lt.lineNos[f.Path]
		lt.lineNos[f.Path] = n
		if err != nil {
			return fmt.Errorf("%s:%d: %w", f.Path, n+1, err)
		}
		lt.read[f.Path] = f.Bytes
	}
	return lt.x.Completed(func(k trace.KeyedRecord) {
		name := k.FusionGroup.Name
		lt.recs[name] = append(lt.recs[name], k)
		lt.sorted[name] = false
		if k.IsRootInvocation {
			lt.roots[name]++
		}
	})
}

// records returns the records of setup in the order of a trace file (lt.mu
// held).
func (lt *liveTraces) records(setup string) ([]trace.Record, bool) {
	ks, ok := lt.recs[setup]
	if !ok {
		return nil, false
	}
	if !lt.sorted[setup] {
		trace.SortKeyed(ks)
		lt.sorted[setup] = true
	}
	out := make([]trace.Record, len(ks))
	for i, k := range ks {
		out[i] = k.Record
	}
	return out, true
}

// names are the setups with records, in creation order.
func (lt *liveTraces) names() []string {
	t := make(trace.Traces, len(lt.recs))
	for n := range lt.recs {
		t[n] = nil
	}
	return t.Names()
}
