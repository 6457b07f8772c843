package lambdaapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
)

// spool is the emulator's log sink: it appends every function's lines to
// <dir>/<function>.log (the layout of emulator.DirSink, so the run's logs
// read like a simulation's) and keeps the tails that Invoke requests with
// X-Amz-Log-Type: Tail asked for. Lines go to disk, not memory, so a long
// run does not grow the process. It is used only on the driver's goroutine.
type spool struct {
	dir   string
	files map[string]*spoolFile
	err   error // the first write error; later lines are dropped
	tails tailCapture
}

type spoolFile struct {
	f     *os.File
	w     *bufio.Writer
	size  int64 // bytes written, flushed or not
	lines int
}

var _ emulator.LogSink = (*spool)(nil)

func newSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	return &spool{dir: dir, files: make(map[string]*spoolFile), tails: newTailCapture(tailKeep)}, nil
}

// WriteLine implements emulator.LogSink.
func (s *spool) WriteLine(function string, _ time.Time, line []byte) {
	s.tails.line(line)
	if s.err != nil {
		return
	}
	sf, ok := s.files[function]
	if !ok {
		f, err := os.OpenFile(filepath.Join(s.dir, function+".log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			s.err = fmt.Errorf("log of %s: %w", function, err)
			return
		}
		sf = &spoolFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		s.files[function] = sf
	}
	sf.w.Write(line)
	if err := sf.w.WriteByte('\n'); err != nil {
		s.err = fmt.Errorf("log of %s: %w", function, err)
		return
	}
	sf.size += int64(len(line)) + 1
	sf.lines++
}

// logFile is a flushed prefix of one function's log.
type logFile struct {
	Function string `json:"function"`
	Path     string `json:"-"`
	Bytes    int64  `json:"bytes"`
	Lines    int    `json:"lines"`
}

// snapshot flushes every file and returns what is on disk now, by function
// name. The files can then be read up to those sizes from any goroutine.
func (s *spool) snapshot() ([]logFile, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	out := make([]logFile, 0, len(s.files))
	for name, sf := range s.files {
		out = append(out, logFile{Function: name, Path: sf.f.Name(), Bytes: sf.size, Lines: sf.lines})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Function < out[j].Function })
	return out, nil
}

func (s *spool) flush() error {
	for name, sf := range s.files {
		if err := sf.w.Flush(); err != nil && s.err == nil {
			s.err = fmt.Errorf("log of %s: %w", name, err)
		}
	}
	return s.err
}

// close flushes and closes every file.
func (s *spool) close() error {
	err := s.flush()
	for _, sf := range s.files {
		if cerr := sf.f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.files = map[string]*spoolFile{}
	return err
}

// readLogs calls fn with every line of files (read up to their snapshot
// sizes), function by function.
func readLogs(files []logFile, fn func(fusionsim.LogLine) error) error {
	for _, lf := range files {
		f, err := os.Open(lf.Path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(io.LimitReader(f, lf.Bytes))
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if err := fn(fusionsim.LogLine{Function: lf.Function, Text: sc.Text()}); err != nil {
				f.Close()
				return err
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("log of %s: %w", lf.Function, err)
		}
	}
	return nil
}

// tailBytes is how much of an invocation's log X-Amz-Log-Result carries.
const tailBytes = 4 << 10

// tailKeep bounds the finished invocations whose tails are kept until their
// response is delivered.
const tailKeep = 4096

// tailCapture keeps the last tailBytes of each invocation's log, by Lambda
// request id, while some request wants a tail. Lines are captured only while
// wanted > 0: the lines of a request's invocation are all written between
// its submission and its response, so nothing it needs is missed, and the
// hot path of requests without Tail stays free.
type tailCapture struct {
	wanted   int
	open     map[string]*bytes.Buffer // invocations whose REPORT is not written yet
	finished map[string][]byte
	order    []string // finished ids, oldest first, for eviction
	keep     int
}

func newTailCapture(keep int) tailCapture {
	return tailCapture{open: make(map[string]*bytes.Buffer), finished: make(map[string][]byte), keep: keep}
}

// want marks one more request that wants its tail; release undoes it.
func (t *tailCapture) want() { t.wanted++ }

func (t *tailCapture) release() {
	t.wanted--
	if t.wanted == 0 {
		clear(t.open)
		clear(t.finished)
		t.order = t.order[:0]
	}
}

func (t *tailCapture) line(line []byte) {
	if t.wanted == 0 {
		return
	}
	id, report := requestIDOf(line)
	if id == "" {
		return
	}
	b, ok := t.open[id]
	if !ok {
		b = new(bytes.Buffer)
		t.open[id] = b
	}
	b.Write(line)
	b.WriteByte('\n')
	if b.Len() > 2*tailBytes {
		// Keep the buffer small: drop all but the last tailBytes.
		keep := append([]byte(nil), b.Bytes()[b.Len()-tailBytes:]...)
		b.Reset()
		b.Write(keep)
	}
	if report {
		delete(t.open, id)
		t.finished[id] = lastBytes(b.Bytes(), tailBytes)
		t.order = append(t.order, id)
		if len(t.order) > t.keep {
			delete(t.finished, t.order[0])
			t.order = t.order[1:]
		}
	}
}

// take returns and forgets the tail of request id.
func (t *tailCapture) take(id string) ([]byte, bool) {
	b, ok := t.finished[id]
	if ok {
		delete(t.finished, id)
	}
	return b, ok
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return append([]byte(nil), b...)
}

// requestIDOf finds the Lambda request id of a log line: in START, END and
// REPORT control lines, or the second tab-separated field of the runtime's
// "<time>\t<id>\t..." lines. report is true on the REPORT line, the last
// line of an invocation.
func requestIDOf(line []byte) (id string, report bool) {
	for _, p := range [...]string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "} {
		if rest, ok := bytes.CutPrefix(line, []byte(p)); ok {
			if i := bytes.IndexAny(rest, " \t"); i >= 0 {
				rest = rest[:i]
			}
			return string(rest), strings.HasPrefix(p, "REPORT")
		}
	}
	_, rest, ok := bytes.Cut(line, []byte{'\t'})
	if !ok {
		return "", false
	}
	id2, _, ok := bytes.Cut(rest, []byte{'\t'})
	if !ok {
		return "", false
	}
	return string(id2), false
}
