package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/trace"
)

// CellsFile holds the figures of every cell of a results directory at full
// precision (the data merge reads): cell index, then metricsHeader.
const CellsFile = "cells.csv"

// metricsHeader are the columns of a cell's figures (optimizer.Metrics) in
// CellsFile and journal chunks, written so that they read back exactly.
var metricsHeader = []string{"requests", "invocations", "errors", "median_ms", "p95_ms", "e2e_median_ms", "usd_per_request", "median_root_billed_ms"}

func metricsRecord(m optimizer.Metrics) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{strconv.Itoa(m.Requests), strconv.Itoa(m.Invocations), strconv.Itoa(m.Errors),
		f(m.MedianLatencyMs), f(m.P95LatencyMs), f(m.MedianE2EMs), f(m.CostPerRequestUSD), f(m.MedianRootBilledMs)}
}

func parseMetrics(rec []string) (optimizer.Metrics, error) {
	var m optimizer.Metrics
	if len(rec) != len(metricsHeader) {
		return m, fmt.Errorf("%d fields, want %d", len(rec), len(metricsHeader))
	}
	ints := []*int{&m.Requests, &m.Invocations, &m.Errors}
	for i, p := range ints {
		v, err := strconv.Atoi(rec[i])
		if err != nil || v < 0 {
			return m, fmt.Errorf("%s %q: not a count", metricsHeader[i], rec[i])
		}
		*p = v
	}
	floats := []*float64{&m.MedianLatencyMs, &m.P95LatencyMs, &m.MedianE2EMs, &m.CostPerRequestUSD, &m.MedianRootBilledMs}
	for i, p := range floats {
		v, err := strconv.ParseFloat(rec[len(ints)+i], 64)
		if err != nil || v < 0 || math.IsInf(v, 0) {
			return m, fmt.Errorf("%s %q: not a figure >= 0 (or NaN)", metricsHeader[len(ints)+i], rec[len(ints)+i])
		}
		*p = v
	}
	return m, nil
}

// encodeCells writes cells (index -> figures) as CSV, by index.
func encodeCells(cells map[int]optimizer.Metrics) []byte {
	idx := make([]int, 0, len(cells))
	for k := range cells {
		idx = append(idx, k)
	}
	sort.Ints(idx)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(append([]string{"cell"}, metricsHeader...))
	for _, k := range idx {
		w.Write(append([]string{strconv.Itoa(k)}, metricsRecord(cells[k])...))
	}
	w.Flush()
	return b.Bytes()
}

// decodeCells reads what encodeCells wrote into cells; cells of total or
// more, and a cell listed twice with other figures, are errors.
func decodeCells(r io.Reader, name string, total int, cells map[int]optimizer.Metrics) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 1 + len(metricsHeader)
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if strings.Join(head, ",") != "cell,"+strings.Join(metricsHeader, ",") {
		return fmt.Errorf("%s: header %q, want %q", name, strings.Join(head, ","), "cell,"+strings.Join(metricsHeader, ","))
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		k, err := strconv.Atoi(rec[0])
		if err != nil || k < 0 || k >= total {
			return fmt.Errorf("%s:%d: cell %q: not an index of the sweep's %d cells", name, line, rec[0], total)
		}
		m, err := parseMetrics(rec[1:])
		if err != nil {
			return fmt.Errorf("%s:%d: cell %d: %v", name, line, k, err)
		}
		if prev, ok := cells[k]; ok && !sameMetrics(prev, m) {
			return fmt.Errorf("%s:%d: cell %d has other figures than before (%v, %v)", name, line, k, prev, m)
		}
		cells[k] = m
	}
}

// sameMetrics compares figures exactly (NaN equals NaN).
func sameMetrics(a, b optimizer.Metrics) bool {
	return strings.Join(metricsRecord(a), ",") == strings.Join(metricsRecord(b), ",")
}

// Journal keeps the finished cells of a run that has not written its results
// directory yet, in a hidden directory beside it (PartialDir): a header
// naming the sweep and shard, and chunk files each written atomically, so
// that a run killed at any moment leaves only whole chunks. A rerun of the
// same sweep and shard opens it and goes on.
type Journal struct {
	dir     string
	header  journalHeader
	done    map[int]optimizer.Metrics
	pending map[int]optimizer.Metrics
	chunks  int
}

type journalHeader struct {
	Hash  string `json:"sweep"`
	Shard string `json:"shard"`
	Cells int    `json:"cells"`
	// Build is the fusionsim build that kept the cells (Version): another
	// build's figures may differ, so its journal is not taken up.
	Build string `json:"build"`
}

const journalHeaderFile = "journal.json"

// PartialDir is the journal directory of the results directory dir:
// ".<name>.partial" beside it.
func PartialDir(dir string) string {
	dir = filepath.Clean(dir)
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".partial")
}

// OpenJournal opens or creates the journal in dir for the sweep hash and
// shard (a label) of total cells. A journal of another sweep or shard is an
// error.
func OpenJournal(dir, hash, shard string, total int) (*Journal, error) {
	j := &Journal{dir: dir, header: journalHeader{Hash: hash, Shard: shard, Cells: total, Build: Version()}, done: map[int]optimizer.Metrics{}, pending: map[int]optimizer.Metrics{}}
	data, err := os.ReadFile(filepath.Join(dir, journalHeaderFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		hb, _ := json.MarshalIndent(j.header, "", "  ")
		if err := trace.WriteFileAtomic(filepath.Join(dir, journalHeaderFile), append(hb, '\n')); err != nil {
			return nil, err
		}
		return j, nil
	case err != nil:
		return nil, err
	}
	var h journalHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, journalHeaderFile), err)
	}
	if h.Hash == hash && h.Shard == shard && h.Cells == total && h.Build != j.header.Build {
		return nil, fmt.Errorf("%s holds finished cells of another fusionsim build (%q; this one is %q), whose figures may differ: remove it to start over, or resume with that build", dir, h.Build, j.header.Build)
	}
	if h != j.header {
		return nil, fmt.Errorf("%s holds the finished cells of another run (sweep %.12s, shard %s, %d cells; this one: sweep %.12s, shard %s, %d cells): remove it or choose another output directory",
			dir, h.Hash, h.Shard, h.Cells, hash, shard, total)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "chunk-") && strings.HasSuffix(name, ".csv"):
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			err = decodeCells(f, filepath.Join(dir, name), total, j.done)
			f.Close()
			if err != nil {
				return nil, err
			}
			if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "chunk-"), ".csv")); err == nil {
				j.chunks = max(j.chunks, n)
			}
		case strings.HasPrefix(name, "."):
			// A chunk whose write was interrupted: never renamed, never read.
			os.Remove(filepath.Join(dir, name))
		}
	}
	return j, nil
}

// Done returns the cells finished so far (kept ones and added ones). The map
// must not be changed.
func (j *Journal) Done() map[int]optimizer.Metrics { return j.done }

// Add records a finished cell; Flush makes it durable.
func (j *Journal) Add(k int, m optimizer.Metrics) {
	j.done[k] = m
	j.pending[k] = m
}

// Pending counts the cells added since the last Flush.
func (j *Journal) Pending() int { return len(j.pending) }

// Flush writes the cells added since the last Flush as a new chunk.
func (j *Journal) Flush() error {
	if len(j.pending) == 0 {
		return nil
	}
	j.chunks++
	path := filepath.Join(j.dir, fmt.Sprintf("chunk-%06d.csv", j.chunks))
	if err := trace.WriteFileAtomic(path, encodeCells(j.pending)); err != nil {
		return err
	}
	syncDir(j.dir)
	j.pending = map[int]optimizer.Metrics{}
	return nil
}

// Remove deletes the journal (once its cells are in the results directory).
func (j *Journal) Remove() error { return os.RemoveAll(j.dir) }

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
