package lambdaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/trace"
)

// Files of the output directory, the layout of a results directory:
//
//	manifest.json                              the run: flags, setups, counters
//	configuration/configurationMetadata.json   every setup deployed
//	traces/<setup>.json                        invocation records per setup
//	logs/<function>.log                        the Lambda logs
const (
	ManifestFile = "manifest.json"
	TracesDir    = "traces"
	LogsDir      = "logs"
)

// Manifest describes a run of the HTTP emulator.
type Manifest struct {
	Command   string  `json:"command"`
	Version   string  `json:"version,omitempty"`
	App       string  `json:"app"`
	Seed      uint64  `json:"seed"`
	TimeScale float64 `json:"timeScale"`
	Profile   string  `json:"profile"`
	// Started and Stopped are wall times; VirtualStart and VirtualEnd the
	// emulator's clock (the logs' timestamps).
	Started      time.Time `json:"started"`
	Stopped      time.Time `json:"stopped"`
	VirtualStart time.Time `json:"virtualStart"`
	VirtualEnd   time.Time `json:"virtualEnd"`
	// Setups lists the setups deployed, in creation order.
	Setups []string `json:"setups"`
	// RootInvocations per setup, from the platform's own account; the traces
	// hold as many root records.
	RootInvocations map[string]int `json:"rootInvocations"`
	HTTP            HTTPStats      `json:"http"`
	Platform        emulator.Stats `json:"platform"`
	// TraceProblems summarizes what the trace extractor could not use ("" if
	// nothing).
	TraceProblems string `json:"traceProblems,omitempty"`
}

// writeOut writes the results into the spool directory, which already holds
// logs/, and renames it to Config.Out. It runs after the driver stopped.
func (s *Server) writeOut() error {
	files, err := s.spoolFiles()
	if err != nil {
		return err
	}
	s.log.Printf("extracting the traces and writing %s", s.cfg.Out)
	ext, err := extractFiles(files)
	if err != nil {
		return fmt.Errorf("extracting traces: %w", err)
	}
	if err := trace.WriteDir(filepath.Join(s.spoolTo, TracesDir), &trace.Dir{Traces: ext.Traces}, trace.WriteOptions{}); err != nil {
		return fmt.Errorf("writing traces: %w", err)
	}
	if err := trace.WriteConfigs(s.spoolTo, s.deployed); err != nil {
		return fmt.Errorf("writing the setups: %w", err)
	}
	names := s.deployed.Names()
	st := s.statsOnDriver(s.em) // the driver has stopped: this goroutine owns the emulator now
	m := Manifest{
		Command: "emulator", Version: s.cfg.Version, App: s.cfg.App.Name, Seed: s.cfg.Seed,
		TimeScale: s.cfg.TimeScale, Profile: s.profile.Name,
		Started: s.started.UTC(), Stopped: s.cfg.Now().UTC(),
		VirtualStart: s.drv.virt0.UTC(), VirtualEnd: s.em.Now().UTC(),
		Setups: names, RootInvocations: st.RootInvocations, HTTP: st.HTTP, Platform: st.Platform,
	}
	if err := ext.Err(); err != nil {
		m.TraceProblems = err.Error()
		s.log.Printf("traces: %v", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := trace.WriteFileAtomic(filepath.Join(s.spoolTo, ManifestFile), append(b, '\n')); err != nil {
		return err
	}
	out := filepath.Clean(s.cfg.Out)
	if err := checkOutFree(out); err != nil {
		return fmt.Errorf("out: %w", err)
	}
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("out: %w", err)
	}
	if err := os.Chmod(s.spoolTo, 0o755); err != nil { // MkdirTemp made it 0700
		return fmt.Errorf("out: %w", err)
	}
	if err := os.Rename(s.spoolTo, out); err != nil {
		return fmt.Errorf("out: %w", err)
	}
	s.log.Printf("wrote %s: %d setup(s), %d root invocation(s) in the traces", out, len(ext.Traces), countRoots(ext.Traces))
	return nil
}

// spoolFiles lists the closed log files of the spool directory.
func (s *Server) spoolFiles() ([]logFile, error) {
	dir := filepath.Join(s.spoolTo, LogsDir)
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
