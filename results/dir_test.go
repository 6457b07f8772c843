package results

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
	"github.com/fusionsim/fusionsim/trace"
)

// fixtureRun is a run made of the derived calibration fixture, with a few
// client responses for the first setup.
func fixtureRun(t *testing.T) *Run {
	t.Helper()
	d, err := trace.ReadDir("testdata/split-coldStarts-derived")
	if err != nil {
		t.Fatal(err)
	}
	prof := model.Default()
	run := &Run{Manifest: Manifest{Command: "simulate run", Workload: "split", Seed: 3, Flags: map[string]string{"load": "coldstart"}, Profile: &prof},
		Configs: d.Configs, NoFigures: true}
	t0 := time.Date(2023, 2, 3, 10, 0, 0, 0, time.UTC)
	for i, name := range d.Traces.Names() {
		sr := SetupRun{Name: name, Records: d.Traces[name], Route: "SYNC-A-128", Reason: "given"}
		if i == 0 {
			for j := 0; j < 40; j++ {
				r := fusionsim.Response{Sent: t0.Add(time.Duration(j) * time.Second), StatusCode: 200, RequestID: "r" + string(rune('a'+j%26))}
				r.Received = r.Sent.Add(time.Duration(5000+j) * time.Millisecond)
				if j == 39 {
					r.StatusCode, r.Err = 502, errors.New("function A-128: Error: boom, \"quoted\"")
				}
				sr.Responses = append(sr.Responses, r)
			}
		}
		run.Setups = append(run.Setups, sr)
	}
	return run
}

func TestWriteLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "res")
	run := fixtureRun(t)
	run.Logs = func(yield func(fusionsim.LogLine) error) error {
		for _, l := range []fusionsim.LogLine{{Function: "fusion-function-A-128", Text: "START RequestId: x Version: $LATEST"}, {Function: "fusion-function-B-128", Text: "END RequestId: y"}} {
			if err := yield(l); err != nil {
				return err
			}
		}
		return nil
	}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	files := tree(t, dir)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"configuration/configurationMetadata.json", "logs/fusion-function-A-128.log", "logs/fusion-function-B-128.log",
		"manifest.json", "responses/a_remote.csv", "summary-full.csv", "summary.csv",
		"traces/a_remote.json", "traces/b_local.json", "traces/c_optimal.json", "traces/d_optimal_small.json"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files\n%v\nwant\n%v", names, want)
	}
	var m Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != CurrentFormat || !m.Complete || m.Version == "" || m.Seed != 3 || len(m.Setups) != 4 || m.Setups[0] != (SetupInfo{Name: "a_remote", Route: "SYNC-A-128", Reason: "given", Requests: 40, Invocations: 280}) {
		t.Errorf("manifest %+v", m)
	}
	if bytes.Contains(files["manifest.json"], []byte(time.Now().Format("2006-01-02"))) {
		t.Error("the manifest holds today's date")
	}
	// No temporary directory is left beside it.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".res*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	d, err := Read(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Names, []string{"a_remote", "b_local", "c_optimal", "d_optimal_small"}) || len(d.Configs) != 4 || d.Manifest.Workload != "split" {
		t.Errorf("read back: names %v, %d configs, manifest %+v", d.Names, len(d.Configs), d.Manifest)
	}
	resps := d.Responses["a_remote"]
	orig := run.Setups[0].Responses
	if len(resps) != len(orig) {
		t.Fatalf("%d responses read back, want %d", len(resps), len(orig))
	}
	for i := range resps {
		a, b := resps[i], orig[i]
		if !a.Sent.Equal(b.Sent) || a.Latency() != b.Latency() || a.StatusCode != b.StatusCode || a.RequestID != b.RequestID || (a.Err == nil) != (b.Err == nil) || (a.Err != nil && a.Err.Error() != b.Err.Error()) {
			t.Errorf("response %d: %+v, want %+v", i, a, b)
		}
	}
	if r := d.Rows[0]; r.Errors != 1 || r.E2EMedianMs != 5019 || r.Requests != 40 {
		t.Errorf("row %+v", r)
	}
}

func TestWriteReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "res")
	run := fixtureRun(t)
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	// An existing results directory is replaced as a whole.
	run.Setups = run.Setups[:2]
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	if ts, _ := filepath.Glob(filepath.Join(dir, TracesDir, "*.json")); len(ts) != 2 {
		t.Errorf("after replacing: traces %v", ts)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("beside the results: %v", entries)
	}
	// An empty directory is fine; a directory of something else is not.
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := Write(empty, run); err != nil {
		t.Errorf("empty directory: %v", err)
	}
	other := filepath.Join(parent, "other")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, "thesis.tex"), []byte("x"), 0o644)
	if err := Write(other, run); !errors.Is(err, ErrNotResults) {
		t.Errorf("directory of something else: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "thesis.tex")); string(b) != "x" {
		t.Error("the other directory was touched")
	}
}

// TestStageInterrupted: a stage that is never committed leaves no
// directory at the target, only a hidden temporary one without manifest.
func TestStageInterrupted(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "res")
	st, err := NewStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := st.LogFiles()
	if err != nil {
		t.Fatal(err)
	}
	lf.Write(fusionsim.LogLine{Function: "fusion-function-A-128", Text: "START RequestId: x"})
	// ... the run is interrupted here.
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("target exists before commit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(st.Dir(), ManifestFile)); !os.IsNotExist(err) {
		t.Error("the stage has a manifest before commit")
	}
	if !strings.HasPrefix(filepath.Base(st.Dir()), ".res.tmp-") {
		t.Errorf("stage %s is not hidden", st.Dir())
	}
	if _, err := Read(st.Dir(), ReadOptions{}); err == nil {
		t.Error("an uncommitted stage reads as results")
	}
	// Committing later keeps the lines logged through the stage.
	run := fixtureRun(t)
	if err := st.Commit(run); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LogsDir, "fusion-function-A-128.log")); string(b) != "START RequestId: x\n" {
		t.Errorf("log %q", b)
	}
	// Abort removes the stage.
	st2, _ := NewStage(filepath.Join(parent, "other"))
	st2.Abort()
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("after abort: %v", entries)
	}
}

func TestWriteBadNames(t *testing.T) {
	for _, names := range [][]string{{"a", "a"}, {"../x"}, {""}, {".hidden"}} {
		run := &Run{NoFigures: true}
		for _, n := range names {
			run.Setups = append(run.Setups, SetupRun{Name: n})
		}
		dir := filepath.Join(t.TempDir(), "res")
		if err := Write(dir, run); err == nil {
			t.Errorf("names %q: no error", names)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("names %q: directory written", names)
		}
	}
}

func TestReadPrototypeAndErrors(t *testing.T) {
	d, err := Read("testdata/split-coldStarts-derived", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Manifest != nil || len(d.Rows) != 4 || d.Rows[1].Setup != "b_local" || d.Rows[1].MedianMs != 9509.5 {
		t.Errorf("prototype layout: %+v", d.Rows)
	}
	if _, err := Read(t.TempDir(), ReadOptions{}); !errors.Is(err, ErrNotResults) {
		t.Errorf("empty directory: %v", err)
	}
	// A summary.csv that does not match the manifest is an error.
	dir := filepath.Join(t.TempDir(), "res")
	if err := Write(dir, fixtureRun(t)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, SummaryFullFile)) // then summary.csv is read
	os.WriteFile(filepath.Join(dir, SummaryFile), []byte(strings.Join(Header, ",")+"\n"), 0o644)
	if _, err := Read(dir, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "0 rows for 4 setups") {
		t.Errorf("short summary: %v", err)
	}
	if _, err := Read(dir, ReadOptions{Recompute: true}); err != nil {
		t.Errorf("recompute ignores summary.csv: %v", err)
	}
}

func TestApplicable(t *testing.T) {
	mk := func(names ...string) *Data {
		d := &Data{Names: names, Traces: trace.Traces{}}
		for _, n := range names {
			d.Traces[n] = nil
		}
		return d
	}
	if got := Applicable(mk("a"), PlotOptions{}); !reflect.DeepEqual(got, []string{FigLatencyECDF}) {
		t.Errorf("one setup: %v", got)
	}
	if got := Applicable(mk("b_local", "a_remote"), PlotOptions{E2E: true}); !reflect.DeepEqual(got, []string{FigLatencyECDF, FigPareto}) {
		t.Errorf("named setups without responses: %v", got)
	}
	if got := Applicable(mk("1675000002", "1675000001"), PlotOptions{}); slices.Contains(got, FigIterations) {
		t.Errorf("decreasing numeric names: %v", got)
	}
	if got := Applicable(mk("1675000001", "1675000002"), PlotOptions{}); !slices.Contains(got, FigIterations) {
		t.Errorf("increasing numeric names: %v", got)
	}
	d, err := Read("testdata/split-coldStarts-derived", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Two memory configurations of one grouping are no sweep.
	if got := Applicable(d, PlotOptions{}); !reflect.DeepEqual(got, []string{FigLatencyECDF, FigPareto}) {
		t.Errorf("split-coldStarts: %v", got)
	}
}

// TestDrawFigures draws every figure of a memory sweep built from the
// fixture (setups renamed in run order, memory rewritten) and checks the
// files: PNGs decode at the size asked for, PDFs and SVGs are what they
// claim, and drawing twice gives the same bytes.
func TestDrawFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("draws figures")
	}
	src, err := Read("testdata/split-coldStarts-derived", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{Traces: trace.Traces{}, Responses: map[string][]fusionsim.Response{}}
	for i, mb := range []string{"128", "512", "1024", "2048"} {
		name := "167500000" + string(rune('1'+i))
		var recs []trace.Record
		for _, r := range src.Traces["c_optimal"] {
			r.MemoryAvail = mb
			r.InternalDuration = r.InternalDuration * 128 / int64(len(mb)*100)
			recs = append(recs, r)
		}
		d.Names = append(d.Names, name)
		d.Traces[name] = recs
		t0 := time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC)
		for j := 0; j < 20; j++ {
			d.Responses[name] = append(d.Responses[name], fusionsim.Response{Sent: t0, Received: t0.Add(time.Duration(100*(i+1)+j) * time.Millisecond), StatusCode: 200})
		}
	}
	d.summarize(model.Pricing{})
	opt := PlotOptions{E2E: true, PNGDPI: 100}
	want := []string{FigLatencyECDF, FigE2EECDF, FigIterations, FigMemorySweep + "-A-C-F-G", FigPareto}
	if got := Applicable(d, opt); !reflect.DeepEqual(got, want) {
		t.Fatalf("applicable %v, want %v", got, want)
	}
	var outs [2]map[string][]byte
	for k := range outs {
		dir := t.TempDir()
		files, err := DrawFigures(d, dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 3*len(want) {
			t.Fatalf("files %v", files)
		}
		outs[k] = tree(t, dir)
	}
	for name, data := range outs[0] {
		if !bytes.Equal(outs[1][name], data) {
			t.Errorf("%s differs between two drawings", name)
		}
		switch filepath.Ext(name) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if w := img.Bounds().Dx(); w != 350 {
				t.Errorf("%s: %d px wide, want 3.5 in at 100 dpi = 350", name, w)
			}
		case ".pdf":
			if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("/FontFile2")) {
				t.Errorf("%s: not a PDF with an embedded TrueType font", name)
			}
		case ".svg":
			if !bytes.Contains(data, []byte("<svg")) {
				t.Errorf("%s: not SVG", name)
			}
		}
	}
	if _, err := DrawFigures(d, t.TempDir(), PlotOptions{Formats: []string{"gif"}}); err == nil {
		t.Error("unknown format: no error")
	}
}

func TestParetoFront(t *testing.T) {
	pts := plotter.XYs{{X: 3, Y: 1}, {X: 1, Y: 5}, {X: 2, Y: 2}, {X: 2, Y: 3}, {X: 4, Y: 1}, {X: 1, Y: 6}, {X: 5, Y: 0.5}, {X: 6, Y: 0.5}}
	front := paretoFront(pts)
	// Brute force: a point is on the front when no other point is at most as
	// expensive and as slow, and better in one of the two.
	var brute plotter.XYs
	for _, p := range pts {
		dominated := false
		for _, q := range pts {
			if q.X <= p.X && q.Y <= p.Y && (q.X < p.X || q.Y < p.Y) {
				dominated = true
			}
		}
		if !dominated {
			brute = append(brute, p)
		}
	}
	slices.SortFunc(brute, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	if !reflect.DeepEqual(front, brute) {
		t.Errorf("front %v, brute force %v", front, brute)
	}
}
