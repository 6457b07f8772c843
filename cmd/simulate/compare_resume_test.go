package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// cancelAt is a stderr that cancels a context once a progress line of
// label reaches pct percent.
type cancelAt struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	re     *regexp.Regexp
	pct    int
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	for _, m := range c.re.FindAllStringSubmatch(c.buf.String(), -1) {
		if v, _ := strconv.Atoi(m[1]); v >= c.pct {
			c.cancel()
		}
	}
	return len(p), nil
}

// TestCompareResume: an interrupted comparison keeps its finished closed
// loops and sweep setups; the same command again evaluates only the rest and
// writes the same files as an uninterrupted run.
func TestCompareResume(t *testing.T) {
	base := t.TempDir()
	args := []string{"compare", "--workload", "split", "--memory-sizes", "128,1024", "--duration", "10s", "--sweep-requests", "20", "--workers", "2"}
	mustSimulate(t, append(args, "--out", filepath.Join(base, "whole"), "--quiet")...)

	out := filepath.Join(base, "resumed")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelAt{re: regexp.MustCompile(`exhaustive \d+/\d+ (\d+)%`), pct: 30, cancel: cancel}
	err := Run(ctx, append(args, "--out", out, "--progress"), &bytes.Buffer{}, stderr)
	if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("interrupted compare: %v\n%s", err, stderr.buf.String())
	}
	if _, err := os.Stat(filepath.Join(out, "compare.csv")); err == nil {
		t.Fatal("an interrupted compare wrote compare.csv")
	}
	partial := filepath.Join(base, ".resumed.partial")
	chunks, _ := filepath.Glob(filepath.Join(partial, "chunk-*.csv"))
	if len(chunks) == 0 {
		t.Fatalf("no sweep setups kept in %s", partial)
	}

	var errOut bytes.Buffer
	if err := Run(context.Background(), append(args, "--out", out), &bytes.Buffer{}, &errOut); err != nil {
		t.Fatalf("resumed compare: %v\n%s", err, errOut.String())
	}
	m := regexp.MustCompile(`exhaustive: resuming: (\d+) of 128 setups kept`).FindStringSubmatch(errOut.String())
	if m == nil {
		t.Fatalf("the rerun did not resume the sweep:\n%s", errOut.String())
	}
	if n, _ := strconv.Atoi(m[1]); n < 128*3/10 || n >= 128 {
		t.Errorf("%d of 128 setups kept after an interrupt at 30%%", n)
	}
	for _, f := range []string{"compare.csv", "front.csv", "sweep.csv"} {
		a, errA := os.ReadFile(filepath.Join(base, "whole", f))
		b, errB := os.ReadFile(filepath.Join(out, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: the resumed comparison differs from the uninterrupted one (%v, %v)", f, errA, errB)
		}
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("%s left after the comparison was written: %v", partial, err)
	}
}
