package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim/trace"
)

const derivedFixture = "../../results/testdata/split-coldStarts-derived"

func TestSummaryCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"summary", derivedFixture}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	for _, want := range []string{"a_remote", "4761.0", "9509.5", "1723.0", "1707.0", "A:128 C:1024 F:1536 G:1536"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := Run(context.Background(), []string{"summary", derivedFixture, "--csv"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "setup,requests,invocations,median_ms,p95_ms,p99_ms,e2e_median_ms,e2e_p95_ms,gbms_per_request,usd_per_million,cold_starts,errors") {
		t.Errorf("--csv:\n%s", out.String())
	}
	for _, args := range [][]string{{"summary"}, {"summary", "a", "b"}, {"summary", "--nope", derivedFixture}} {
		if err := Run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%q: no error", args)
		} else if !errors.Is(err, errUsage) && !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("%q: %v is not a usage error", args, err)
		}
	}
	if err := Run(context.Background(), []string{"summary", t.TempDir()}, &out, &errb); err == nil {
		t.Error("empty directory: no error")
	}
}

// TestSummaryCalibration prints the medians of the calibration README.
func TestSummaryCalibration(t *testing.T) {
	dir := "../../../shared/calibration/split-coldStarts-dualcore-4"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no ../shared/calibration")
	}
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"summary", dir}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4747.0", "9580.5", "1720.5", "1707.0", "2586.5", "1204.3", "1324.5", "1385.2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPlotCommand(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"plot", "--out", out, "--formats", "png,pdf", "--dpi", "72", derivedFixture}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	for _, f := range []string{"latency-ecdf.png", "latency-ecdf.pdf", "pareto.png", "pareto.pdf"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "9509.5") || !strings.Contains(stderr.String(), "wrote ") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	for _, args := range [][]string{
		{"plot", "--formats", "gif", derivedFixture},
		{"plot", "--width", "0", derivedFixture},
		{"plot", "--dpi", "5", derivedFixture},
	} {
		if err := Run(context.Background(), args, &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestSummaryWarnsOfIncompleteTraces: traces that lost root invocation
// records get a warning; complete ones none.
func TestSummaryWarnsOfIncompleteTraces(t *testing.T) {
	d, err := trace.ReadDir(derivedFixture)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"summary", derivedFixture}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "incomplete") {
		t.Errorf("complete traces warned of:\n%s", errb.String())
	}
	recs := d.Traces["a_remote"]
	var cut []trace.Record
	for i, r := range recs {
		if !(r.IsRootInvocation && i%3 == 0) {
			cut = append(cut, r)
		}
	}
	d.Traces["a_remote"] = cut
	dir := filepath.Join(t.TempDir(), "cut")
	if err := trace.WriteDir(dir, d, trace.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if err := Run(context.Background(), []string{"summary", dir}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "warning: setup a_remote: traces incomplete:") || strings.Contains(errb.String(), "setup b_local") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}
