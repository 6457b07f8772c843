package lambdaapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
)

// ExtraKey is the key of RunInfo in the manifest's Extra.
const ExtraKey = "emulator"

// RunInfo is what the manifest of an emulator run holds besides the
// results directory's common fields (under Extra["emulator"]).
type RunInfo struct {
	TimeScale float64 `json:"timeScale"`
	Listen    string  `json:"listen,omitempty"`
	// Started and Stopped are wall times; VirtualStart and VirtualEnd the
	// emulator's clock (the logs' timestamps).
	Started      time.Time `json:"started"`
	Stopped      time.Time `json:"stopped"`
	VirtualStart time.Time `json:"virtualStart"`
	VirtualEnd   time.Time `json:"virtualEnd"`
	// Requests are the client requests per setup (responses/ holds one
	// line each); RootInvocations per setup, from the platform's own
	// account: the traces hold as many root records.
	Requests        map[string]int `json:"requests"`
	RootInvocations map[string]int `json:"rootInvocations"`
	HTTP            HTTPStats      `json:"http"`
	Platform        emulator.Stats `json:"platform"`
	// TraceProblems summarizes what the trace extractor could not use (""
	// when nothing).
	TraceProblems string `json:"traceProblems,omitempty"`
}

// writeOut extracts the traces of the spooled logs and commits the results
// directory; incomplete, when not "", marks it incomplete. It runs after
// the driver stopped.
func (s *Server) writeOut(incomplete string) error {
	s.log.Printf("extracting the traces and writing %s", s.cfg.Out)
	files, err := s.spoolFiles()
	if err != nil {
		s.stage.Abort()
		return err
	}
	ext, err := extractFiles(files)
	if err != nil {
		s.stage.Abort()
		return fmt.Errorf("extracting traces: %w", err)
	}
	st := s.statsOnDriver(s.em) // the driver has stopped: this goroutine owns the emulator now
	info := RunInfo{
		TimeScale: s.cfg.TimeScale, Listen: s.listen,
		Started: s.started.UTC(), Stopped: s.cfg.Now().UTC(),
		VirtualStart: s.drv.virt0.UTC(), VirtualEnd: s.em.Now().UTC(),
		Requests: st.Requests, RootInvocations: st.RootInvocations, HTTP: st.HTTP, Platform: st.Platform,
	}
	if err := ext.Err(); err != nil {
		info.TraceProblems = err.Error()
		s.log.Printf("traces: %v", err)
	}
	extra, err := json.Marshal(info)
	if err != nil {
		s.stage.Abort()
		return err
	}
	profile := s.profile
	command := s.cfg.Command
	if command == "" {
		command = "emulator"
	}
	run := &results.Run{
		Manifest: results.Manifest{
			Command: command, Workload: s.cfg.App.Name, Seed: s.cfg.Seed, Flags: s.cfg.Flags, Profile: &profile,
			Extra: map[string]json.RawMessage{ExtraKey: extra},
		},
		Configs:    s.deployed,
		Pricing:    s.profile.Pricing,
		NoFigures:  s.cfg.NoFigures,
		Incomplete: incomplete,
	}
	for _, name := range s.order {
		recs := ext.Traces[name]
		if recs == nil {
			recs = []trace.Record{}
		}
		run.Setups = append(run.Setups, results.SetupRun{
			Name: name, Setup: s.deployed[name], Route: topRoute(s.routeCounts[name]),
			Records: recs, Responses: s.clientResponses(name),
		})
	}
	roots := countRoots(ext.Traces)
	if roots == 0 {
		run.NoFigures = true // nothing to draw
	}
	if err := s.stage.Commit(run); err != nil {
		if s.stage.Dir() != "" { // not renamed into place: nothing written
			return fmt.Errorf("writing %s: %w", s.cfg.Out, err)
		}
		// Only figures failed; the directory is complete otherwise.
		s.log.Printf("warning: %s: %v", s.cfg.Out, err)
	}
	s.log.Printf("wrote %s: %d setup(s), %d root invocation(s) in the traces", s.cfg.Out, len(run.Setups), roots)
	return nil
}

// topRoute is the route most requests of a setup were sent to.
func topRoute(counts map[string]int) string {
	routes := make([]string, 0, len(counts))
	for r := range counts {
		routes = append(routes, r)
	}
	sort.Slice(routes, func(i, j int) bool {
		if counts[routes[i]] != counts[routes[j]] {
			return counts[routes[i]] > counts[routes[j]]
		}
		return routes[i] < routes[j]
	})
	if len(routes) == 0 {
		return ""
	}
	return routes[0]
}

// spoolFiles lists the closed log files of the spool directory.
func (s *Server) spoolFiles() ([]logFile, error) {
	dir := filepath.Join(s.spoolTo, results.LogsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []logFile
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".log" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		name := e.Name()[:len(e.Name())-len(".log")]
		files = append(files, logFile{Function: name, Path: filepath.Join(dir, e.Name()), Bytes: info.Size()})
	}
	return files, nil
}

func countRoots(t trace.Traces) int {
	n := 0
	for _, recs := range t {
		for _, r := range recs {
			if r.IsRootInvocation {
				n++
			}
		}
	}
	return n
}
