package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim/results"
)

// Issue 15: --out replaced any directory holding a manifest.json.
func TestOutRefusesWhatFusionsimDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"name":"my app","display":"standalone","start_url":"/"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("mine"), 0o644)
	args := []string{"--workload", "sieve", "--setup", "sieve:1024", "--requests", "3", "--quiet", "--out", dir}
	_, err := simulate(t, args...)
	if err == nil || !strings.Contains(err.Error(), "not a results directory written by fusionsim") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("error %v, want one refusing the directory and naming --force", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "mine" {
		t.Fatal("the user's file was touched")
	}
	mustSimulate(t, append(args, "--force")...)
	if _, err := os.Stat(filepath.Join(dir, "index.html")); !os.IsNotExist(err) {
		t.Errorf("--force kept index.html: %v", err)
	}
	// What simulate wrote, it replaces.
	mustSimulate(t, args...)
}

// Issue 15: an interrupted run left a directory that summary read as
// complete. It is marked incomplete; summary and plot refuse it unless
// --allow-incomplete.
func TestInterruptedRunIsMarkedIncomplete(t *testing.T) {
	// Interrupt the Fusionize++ loop on IoT (13 iterations) as soon as its
	// first iteration has finished: the progress lines on stderr say when,
	// so the test does not depend on how fast the machine is.
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stderr := &cancelOnWrite{marker: "1675209600: ", cancel: func() { cancel(context.Canceled) }}
	var stdout bytes.Buffer
	err := Run(ctx, []string{"--workload", "iot", "--requests", "200", "--progress", "--out", dir}, &stdout, stderr)
	if err == nil {
		t.Fatal("the whole run finished although it was interrupted after its first iteration")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if !strings.Contains(stderr.String(), "is marked incomplete") {
		t.Errorf("stderr does not say the results are incomplete:\n%s", stderr.String())
	}
	note, err := os.ReadFile(filepath.Join(dir, results.IncompleteFile))
	if err != nil || !strings.Contains(string(note), "interrupted") {
		t.Fatalf("INCOMPLETE: %q, %v", note, err)
	}
	m, _ := os.ReadFile(filepath.Join(dir, results.ManifestFile))
	if !bytes.Contains(m, []byte(`"complete": false`)) {
		t.Errorf("manifest:\n%s", m)
	}
	for _, cmd := range []string{"summary", "plot"} {
		_, err := simulate(t, cmd, dir)
		if !errors.Is(err, results.ErrIncomplete) || !strings.Contains(err.Error(), "--allow-incomplete") {
			t.Errorf("%s of an incomplete run: %v", cmd, err)
		}
		var out, stderr bytes.Buffer
		if err := Run(context.Background(), []string{cmd, "--allow-incomplete", dir}, &out, &stderr); err != nil {
			t.Errorf("%s --allow-incomplete: %v", cmd, err)
		}
		if !strings.Contains(stderr.String(), "warning") || !strings.Contains(out.String(), "1675209600") {
			t.Errorf("%s --allow-incomplete: stderr %q, stdout %q", cmd, stderr.String(), out.String())
		}
	}
}

// Issue 15's smaller findings on the command line.
func TestInputErrorsOfIssue15(t *testing.T) {
	base := t.TempDir()
	header := filepath.Join(base, "typo.csv")
	os.WriteFile(header, []byte("0.x5\n1\n2\n"), 0o644)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "iot", "--requests", "999999999999"}, "--requests 999999999999: bad load: 999999999999 requests is more than the limit of 50000000"},
		{[]string{"--workload", "iot", "--requests", "50000001"}, "50000001 requests is more than the limit of 50000000"},
		{[]string{"--workload", "iot", "--memory-sizes", ""}, `--memory-sizes "": no memory size given`},
		{[]string{"--workload", "iot", "--replay", header}, `typo.csv:1: "0.x5"`},
		{[]string{"--workload", "iot", "--setup", "../../etc=I+CW+SE+CS+CSL+CSA+CA+DJ+CT+AS:128"}, `bad setup name: "../../etc"`},
		{[]string{"--workload", "iot", "--setup", "local", "--setup-name", "a-b"}, `bad setup name: "a-b"`},
		{[]string{"compare", "--workload", "iot", "--optimizers", "fusionize", "--out", filepath.Join(file, "sub")}, "--out"},
		{[]string{"compare", "--workload", "iot", "--memory-sizes", ""}, `--memory-sizes "": no memory size given`},
	} {
		start := time.Now()
		args := tc.args
		if args[0] != "compare" {
			args = append(args, "--out", filepath.Join(base, "x"))
		}
		_, err := simulate(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error containing %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "-2562047") || time.Since(start) > 30*time.Second { // a guard against hanging on a huge count, not a speed target
			t.Errorf("%v: %v after %v", tc.args, err, time.Since(start))
		}
	}
	// A setup named 007 runs and is written as the string "007".
	out := filepath.Join(base, "007")
	mustSimulate(t, "--workload", "sieve", "--setup", "007=sieve:1024", "--requests", "2", "--traces", "plain", "--quiet", "--out", out)
	b, err := os.ReadFile(filepath.Join(out, "configuration", "configurationMetadata.json"))
	if err != nil || !bytes.Contains(b, []byte(`"traceName":"007"`)) {
		t.Errorf("configuration metadata %s, %v", b, err)
	}
	if tr, err := os.ReadFile(filepath.Join(out, "traces", "007.json")); err != nil || !bytes.Contains(tr, []byte(`"fusionGroup":"007"`)) {
		t.Errorf("traces/007.json: %v", err)
	}
	if s := mustSimulate(t, "summary", out); !strings.Contains(s, "007") {
		t.Errorf("summary:\n%s", s)
	}
}

// cancelOnWrite is a writer that keeps what is written and calls cancel
// once the text holds marker.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel func()
	done   bool
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.marker) {
		w.done = true
		w.cancel()
	}
	return n, err
}

func (w *cancelOnWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
