package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/awsstandin"
	"github.com/fusionsim/fusionsim/workloads"
)

// awsEnv points the AWS SDK's standard configuration at static dummy
// credentials and away from any real configuration.
func awsEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTANDINTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "standin-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func csvHeader(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := csv.NewReader(f).Read()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAWSBackendEndToEnd runs "simulate --backend aws" against the AWS
// stand-in in front of the HTTP emulator: deploy the IoT remote setup, 100
// requests, logs through FilterLogEvents, extraction, summary; then
// "simulate teardown".
func TestAWSBackendEndToEnd(t *testing.T) {
	awsEnv(t)
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	sv, err := awsstandin.NewEmulated(awsstandin.EmulatedConfig{App: w.App, Profile: awsstandin.QuickProfile(), Seed: 3, LogPageSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sv)
	defer func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sv.Close(ctx)
	}()
	zip, err := aws.ZipBootstrap([]byte("#!/bin/sh\nexit 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(pkg, zip, 0o644); err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	awsDir := filepath.Join(tmp, "aws")
	load := []string{"--workload", "iot", "--setup", "remote", "--load", "constant", "--rps", "50", "--requests", "100"}
	var stdout, stderr bytes.Buffer
	args := append(append([]string{}, load...),
		"--backend", "aws", "--endpoint-url", ts.URL, "--aws-region", "eu-central-1",
		"--aws-role-arn", "arn:aws:iam::123456789012:role/fusion-e2e", "--aws-prefix", "e2e-", "--aws-package", pkg,
		"--aws-settle", "300ms", "--aws-settle-poll", "50ms", "--out", awsDir)
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("simulate %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "creating function e2e-fusion-function-I-128") {
		t.Errorf("no deployment notice on stderr:\n%s", stderr.String())
	}
	rows := readSummary(t, awsDir)
	r, ok := rows["remote"]
	if !ok || len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	if r.Requests != 100 || r.Invocations != 1100 || r.Errors != 0 || r.ColdStarts < 10 || !(r.MedianMs > 0) || !(r.E2EMedianMs > 0) || !(r.USDPerMillion > 0) {
		t.Errorf("summary row %+v: want 100 requests, 1100 invocations (11 per request), no errors, at least one cold start per function", r)
	}
	if r.Memory != "AS:128 CA:128 CS:128 CSA:128 CSL:128 CT:128 CW:128 DJ:128 I:128 SE:128" {
		t.Errorf("memory column %q", r.Memory)
	}
	for _, f := range []string{"manifest.json", "configuration/configurationMetadata.json", "traces/remote.json.gz", "logs/e2e-fusion-function-AS-128.log.gz"} {
		if _, err := os.Stat(filepath.Join(awsDir, f)); err != nil {
			t.Errorf("results lack %s: %v", f, err)
		}
	}
	var manifest struct {
		Flags map[string]string `json:"flags"`
	}
	if b, err := os.ReadFile(filepath.Join(awsDir, "manifest.json")); err != nil || json.Unmarshal(b, &manifest) != nil ||
		manifest.Flags["backend"] != "aws" || manifest.Flags["aws-prefix"] != "e2e-" {
		t.Errorf("manifest flags %v (%v)", manifest.Flags, err)
	}

	// The same experiment on the emulator: the same summary columns.
	emuDir := filepath.Join(tmp, "emulator")
	mustSimulate(t, append(append([]string{}, load...), "--out", emuDir, "--quiet")...)
	if a, e := csvHeader(t, awsDir), csvHeader(t, emuDir); strings.Join(a, ",") != strings.Join(e, ",") || len(a) < 12 || a[0] != "setup" {
		t.Errorf("summary columns differ:\naws      %v\nemulator %v", a, e)
	}

	// Teardown: a dry run lists, then everything of the prefix goes.
	// (The standard AWS_ENDPOINT_URL instead of --endpoint-url.)
	t.Setenv("AWS_ENDPOINT_URL", ts.URL)
	list := mustSimulate(t, "teardown", "--aws-prefix", "e2e-", "--aws-region", "eu-central-1", "--dry-run")
	t.Setenv("AWS_ENDPOINT_URL", "")
	if n := strings.Count(list, "would delete function e2e-fusion-function-"); n != 10 ||
		strings.Count(list, "would delete table e2e-") != 2 || strings.Count(list, "would delete log group /aws/lambda/e2e-") != 10 {
		t.Errorf("teardown --dry-run:\n%s", list)
	}
	if len(sv.Functions()) != 10 {
		t.Error("the dry run deleted something")
	}
	mustSimulate(t, "teardown", "--aws-prefix", "e2e-", "--endpoint-url", ts.URL, "--aws-region", "eu-central-1", "--quiet")
	if fns, tables := sv.Functions(), sv.Tables(); len(fns) != 0 || len(tables) != 0 {
		t.Errorf("after teardown: functions %v, tables %v", fns, tables)
	}
	if left := mustSimulate(t, "teardown", "--aws-prefix", "e2e-", "--endpoint-url", ts.URL, "--aws-region", "eu-central-1", "--dry-run"); !strings.Contains(left, "nothing to delete") {
		t.Errorf("after teardown, the dry run lists:\n%s", left)
	}
}

// TestAWSDryRunIoTOptimizer rehearses the prototype's IoT optimizer
// experiment (Fusionize++, 10 requests/s for 100 s per setup; here 20 s to
// stay quick) and checks the plan: every function, the cost, and that
// nothing was called.
func TestAWSDryRunIoTOptimizer(t *testing.T) {
	awsEnv(t)
	out, err := simulate(t, "--workload", "iot", "--duration", "20s", "--backend", "aws", "--dry-run",
		"--aws-prefix", "dry-", "--endpoint-url", "http://127.0.0.1:1", "--quiet")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{
		"no AWS API was called",
		"dry-fusion-function-I-128", "dry-fusion-function-AS-2048", "dry-fusion-function-SE-128",
		"dry-SensorDataTable, dry-UseCaseTable",
		"estimated cost: $", "optimizer: optimum found",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "functions (35)") {
		t.Errorf("the plan does not list the 35 functions of the published IoT run's sizes:\n%s", out)
	}

	// A memory size outside --aws-memory-sizes stops the rehearsal before
	// that setup, as it would stop the real run before deploying it.
	out, err = simulate(t, "--workload", "iot", "--duration", "20s", "--backend", "aws", "--dry-run",
		"--aws-memory-sizes", "128,768", "--quiet")
	if err == nil || !strings.Contains(err.Error(), "--aws-memory-sizes") || !strings.Contains(out, "the rehearsal stopped") {
		t.Errorf("dry run with --aws-memory-sizes 128,768: %v\n%s", err, out)
	}
}

func TestBackendFlagErrors(t *testing.T) {
	awsEnv(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "iot", "--aws-region", "eu-west-1"}, "--aws-region applies to --backend aws"},
		{[]string{"--workload", "iot", "--dry-run"}, "--dry-run applies to --backend aws"},
		{[]string{"--workload", "iot", "--backend", "gcp"}, `--backend "gcp"`},
		{[]string{"--workload", "iot", "--backend", "aws", "--aws-arch", "mips", "--dry-run"}, "--aws-arch"},
		{[]string{"--workload", "iot", "--backend", "aws", "--aws-memory-sizes", "128,big", "--dry-run"}, "--aws-memory-sizes"},
		{[]string{"--workload", "iot", "--backend", "aws", "--execute-work"}, "--execute-work"},
		{[]string{"--workload", "iot", "--backend", "aws", "--aws-settle", "0s"}, "--aws-settle"},
		{[]string{"teardown", "--aws-prefix", "bad prefix"}, "--aws-prefix"},
	} {
		_, err := simulate(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("simulate %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestAWSStandinCommand starts "simulate aws-standin" with an in-process
// emulator, lists functions through it and stops it.
func TestAWSStandinCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"aws-standin"}, "give either --emulator"},
		{[]string{"aws-standin", "--workload", "iot", "--emulator", "http://x"}, "give either --emulator"},
		{[]string{"aws-standin", "--emulator", "ftp://x"}, "--emulator"},
		{[]string{"aws-standin", "--emulator", "http://127.0.0.1:1", "--quick"}, "--quick"},
	} {
		if _, err := simulate(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("simulate %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"aws-standin", "--workload", "split", "--quick", "--listen", "127.0.0.1:0"}, io.Discard, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
			addr = strings.Fields(after)[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" {
		cancel()
		t.Fatalf("no address: %v", <-done)
	}
	resp, err := http.Get(addr + "/2015-03-31/functions/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"Functions":[]`) {
		t.Errorf("ListFunctions through the stand-in: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stopping: %v", err)
	}
}
