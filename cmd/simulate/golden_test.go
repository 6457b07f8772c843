package main

import (
	"compress/gzip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/ (review the diff: a change of the model or the default profile shows there)")

// TestGoldenRuns pins what every built-in workload's Fusionize++ loop
// gives under the default profile (three iterations of 20 s of its load):
// the summary and the digest of every trace file. Work on speed must leave
// them as they are; a change of the model or of the default profile
// (make calibration) changes them on purpose: rerun with -update and
// review the diff. (A merge that dropped a random draw of the emulator
// changed every workload's outputs without failing any other test.)
func TestGoldenRuns(t *testing.T) {
	for _, w := range []string{"iot", "split", "splittest", "sieve", "webshop"} {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), w)
			mustSimulate(t, "--workload", w, "--duration", "20s", "--max-iterations", "3", "--seed", "1", "--quiet", "--logs", "none", "--out", dir)
			got := goldenDigest(t, dir)
			path := filepath.Join("testdata", "golden", w+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/simulate -run TestGoldenRuns -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("%s: the run differs from %s (a change of the model or profile on purpose: -update, and review the diff)\ngot:\n%s\nwant:\n%s", w, path, got, want)
			}
		})
	}
}

// goldenDigest is a results directory's summary-full.csv followed by the
// SHA-256 of each trace file's decompressed bytes, by name.
func goldenDigest(t *testing.T, dir string) string {
	t.Helper()
	summary, err := os.ReadFile(filepath.Join(dir, "summary-full.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(summary)
	names, err := filepath.Glob(filepath.Join(dir, "traces", "*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatal("no trace files")
	}
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		}
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		fmt.Fprintf(&b, "trace %s sha256 %x\n", strings.TrimSuffix(filepath.Base(n), ".gz"), h.Sum(nil))
	}
	return b.String()
}
