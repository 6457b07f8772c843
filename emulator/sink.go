package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fusionsim/fusionsim"
)

// LogSink receives the log lines of every function as they are written.
type LogSink interface {
	// WriteLine receives one line of function's log stream (function is its
	// name, e.g. "fusion-function-I-128"), written at time at. line is valid
	// only during the call.
	WriteLine(function string, at time.Time, line []byte)
}

// LogReader is a sink whose lines can be read back; Emulator.Logs needs one.
type LogReader interface {
	// ReadLines calls fn for every line written in [from, to), function by
	// function in name order, each in the order written.
	ReadLines(from, to time.Time, fn func(fusionsim.LogLine) error) error
}

// ErrNoLogReader is returned by Logs when the emulator's sink cannot be read.
var ErrNoLogReader = errors.New("emulator: the log sink cannot be read back (use a MemorySink)")

// Logs calls fn for every line written in [from, to); see fusionsim.Platform.
func (em *Emulator) Logs(_ context.Context, from, to time.Time, fn func(fusionsim.LogLine) error) error {
	r, ok := em.cfg.Log.(LogReader)
	if !ok {
		return ErrNoLogReader
	}
	return r.ReadLines(from, to, fn)
}

// MemorySink keeps every line in memory.
type MemorySink struct {
	lines map[string][]memLine
	n     int
}

type memLine struct {
	at   time.Time
	text string
}

// NewMemorySink returns an empty sink.
func NewMemorySink() *MemorySink { return &MemorySink{lines: make(map[string][]memLine)} }

func (s *MemorySink) WriteLine(function string, at time.Time, line []byte) {
	s.lines[function] = append(s.lines[function], memLine{at, string(line)})
	s.n++
}

// Len is the number of lines held.
func (s *MemorySink) Len() int { return s.n }

// Functions lists the functions that wrote lines, by name.
func (s *MemorySink) Functions() []string {
	names := make([]string, 0, len(s.lines))
	for n := range s.lines {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *MemorySink) ReadLines(from, to time.Time, fn func(fusionsim.LogLine) error) error {
	for _, name := range s.Functions() {
		for _, l := range s.lines[name] {
			if l.at.Before(from) || !l.at.Before(to) {
				continue
			}
			if err := fn(fusionsim.LogLine{Function: name, Time: l.at, Text: l.text}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Reset drops every line.
func (s *MemorySink) Reset() {
	clear(s.lines)
	s.n = 0
}

// DirSink writes each function's log to <dir>/<function>.log.
type DirSink struct {
	dir   string
	files map[string]*dirFile
	err   error
}

type dirFile struct {
	f *os.File
	w *bufio.Writer
}

// NewDirSink creates dir if needed.
func NewDirSink(dir string) (*DirSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &DirSink{dir: dir, files: make(map[string]*dirFile)}, nil
}

func (s *DirSink) WriteLine(function string, _ time.Time, line []byte) {
	if s.err != nil {
		return
	}
	df, ok := s.files[function]
	if !ok {
		f, err := os.Create(filepath.Join(s.dir, function+".log"))
		if err != nil {
			s.err = err
			return
		}
		df = &dirFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		s.files[function] = df
	}
	df.w.Write(line)
	if err := df.w.WriteByte('\n'); err != nil {
		s.err = fmt.Errorf("log %s: %w", function, err)
	}
}

// Close flushes and closes every file; it returns the first error.
func (s *DirSink) Close() error {
	for _, df := range s.files {
		if err := df.w.Flush(); err != nil && s.err == nil {
			s.err = err
		}
		if err := df.f.Close(); err != nil && s.err == nil {
			s.err = err
		}
	}
	s.files = map[string]*dirFile{}
	return s.err
}

// TeeSink writes every line to several sinks.
type TeeSink []LogSink

func (t TeeSink) WriteLine(function string, at time.Time, line []byte) {
	for _, s := range t {
		s.WriteLine(function, at, line)
	}
}

// ReadLines reads from the first sink that can be read.
func (t TeeSink) ReadLines(from, to time.Time, fn func(fusionsim.LogLine) error) error {
	for _, s := range t {
		if r, ok := s.(LogReader); ok {
			return r.ReadLines(from, to, fn)
		}
	}
	return ErrNoLogReader
}
