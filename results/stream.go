package results

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// SetupWriter writes one setup's traces and responses into a Stage while
// the setup runs, so that they need not be held until Commit: records in
// any order (they are sorted in bounded memory, trace.Sorter, and written
// when the setup is closed), responses in any order (written in the
// arrivals' order as soon as those before have come). Commit then writes
// the setup's row, manifest entry and figures, and no traces or responses
// for it.
type SetupWriter struct {
	stage  *Stage
	name   string
	gz     bool
	sorter trace.Sorter
	resp   *responseWriter
	err    error
}

// Setup starts writing setup name's traces (gzip-compressed with gz) and
// responses into the stage. Close it before Commit.
func (s *Stage) Setup(name string, gz bool) (*SetupWriter, error) {
	if err := fusionsim.ValidateSetupName(name); err != nil {
		return nil, err
	}
	if s.written[name] {
		return nil, fmt.Errorf("setup %q is written twice", name)
	}
	if s.written == nil {
		s.written = map[string]bool{}
	}
	s.written[name] = true
	return &SetupWriter{stage: s, name: name, gz: gz}, nil
}

// Record adds an invocation record (k is copied).
func (w *SetupWriter) Record(k *trace.KeyedRecord) error {
	if w.err == nil {
		w.err = w.sorter.Add(k)
	}
	return w.err
}

// Response adds the response to arrival i (r is copied).
func (w *SetupWriter) Response(i int, r *fusionsim.Response) error {
	if w.err != nil {
		return w.err
	}
	if w.resp == nil {
		if w.resp, w.err = newResponseWriter(filepath.Join(w.stage.tmp, ResponsesDir, w.name+".csv")); w.err != nil {
			return w.err
		}
	}
	w.err = w.resp.add(i, r)
	return w.err
}

// Abort drops what was written of the setup: it is no setup of the stage.
func (w *SetupWriter) Abort() {
	w.sorter.Close()
	if w.resp != nil {
		w.resp.abort()
		w.resp = nil
	}
	delete(w.stage.written, w.name)
	w.err = errAborted
}

var errAborted = errors.New("results: SetupWriter aborted")

// Close writes the traces and finishes the responses.
func (w *SetupWriter) Close() error {
	defer w.sorter.Close()
	if w.err != nil {
		if w.resp != nil {
			w.resp.abort()
		}
		return w.err
	}
	if w.resp != nil {
		if w.err = w.resp.close(); w.err != nil {
			return w.err
		}
	}
	dir := filepath.Join(w.stage.tmp, TracesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := w.name + ".json"
	if w.gz {
		file += ".gz"
	}
	w.err = trace.WriteTraceFileFunc(filepath.Join(dir, file), w.gz, func(write func(*trace.Record) error) error {
		return w.sorter.Each(func(k *trace.KeyedRecord) error { return write(&k.Record) })
	})
	return w.err
}

// responseWriter writes responses/<setup>.csv (writeResponses' format) in
// the arrivals' order from responses that come in any order: those that
// come early wait until the ones before them have come. The first
// response decides the form: with the kind and trace id columns when it
// has a kind (a load with kinds of request gives every response its
// kind), without otherwise.
type responseWriter struct {
	f       *trace.AtomicFile
	w       *bufio.Writer
	cw      *csv.Writer
	next    int
	pending map[int]responseRow
	header  bool // the header is written
	kinds   bool // rows have the kind and trace id columns
	fields  []string
}

type responseRow struct {
	sentNs, latencyNs int64
	status            int
	requestID, err    string
	kind, traceID     string
}

func newResponseWriter(path string) (*responseWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := trace.CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return &responseWriter{f: f, w: w, cw: csv.NewWriter(w), pending: map[int]responseRow{}}, nil
}

func (rw *responseWriter) add(i int, r *fusionsim.Response) error {
	row := responseRow{sentNs: r.Sent.UnixNano(), latencyNs: int64(r.Latency()), status: r.StatusCode, requestID: r.RequestID, kind: r.Kind, traceID: r.TraceID}
	if r.Err != nil {
		row.err = r.Err.Error()
	}
	if i != rw.next {
		if i < rw.next {
			return fmt.Errorf("response %d given twice", i)
		}
		rw.pending[i] = row
		return nil
	}
	rw.write(&row)
	for {
		row, ok := rw.pending[rw.next]
		if !ok {
			return rw.cw.Error()
		}
		delete(rw.pending, rw.next)
		rw.write(&row)
	}
}

func (rw *responseWriter) write(r *responseRow) {
	if !rw.header {
		rw.writeHeader(r.kind != "")
	}
	rw.fields = append(rw.fields[:0], strconv.FormatInt(r.sentNs, 10), strconv.FormatInt(r.latencyNs, 10), strconv.Itoa(r.status), r.requestID, r.err)
	if rw.kinds {
		rw.fields = append(rw.fields, r.kind, r.traceID)
	}
	rw.cw.Write(rw.fields)
	rw.next++
}

func (rw *responseWriter) writeHeader(kinds bool) {
	rw.header, rw.kinds = true, kinds
	if kinds {
		rw.cw.Write(kindsHeader)
	} else {
		rw.cw.Write(responsesHeader)
	}
}

func (rw *responseWriter) close() error {
	if len(rw.pending) > 0 {
		rw.abort()
		return fmt.Errorf("responses: %d given out of order, the one to arrival %d is missing", len(rw.pending), rw.next)
	}
	if !rw.header {
		rw.writeHeader(false)
	}
	rw.cw.Flush()
	if err := rw.cw.Error(); err != nil {
		rw.abort()
		return err
	}
	if err := rw.w.Flush(); err != nil {
		rw.abort()
		return err
	}
	return rw.f.Commit()
}

func (rw *responseWriter) abort() { rw.f.Abort() }
