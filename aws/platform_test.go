package aws_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/aws/handler"
	"github.com/fusionsim/fusionsim/awsstandin"
	"github.com/fusionsim/fusionsim/lambdaapi"
	"github.com/fusionsim/fusionsim/load"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// dummyCredentials are static credentials for the stand-in (it checks no
// signature).
var dummyCredentials = credentials.NewStaticCredentialsProvider("AKIDSTANDINTEST", "standin-secret", "")

const testRole = "arn:aws:iam::123456789012:role/fusion-test"

// standin runs the HTTP emulator of app in-process (quick profile), behind
// the AWS stand-in, on a local listener.
type standin struct {
	url string
	sv  *awsstandin.Emulated
}

func startStandin(t *testing.T, app *fusionsim.App) *standin {
	t.Helper()
	sv, err := awsstandin.NewEmulated(awsstandin.EmulatedConfig{
		App: app, Profile: awsstandin.QuickProfile(), Seed: 7, LogPageSize: 50, PendingPolls: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sv)
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sv.Close(ctx); err != nil {
			t.Errorf("closing the emulator: %v", err)
		}
	})
	return &standin{url: ts.URL, sv: sv}
}

// fakePackage writes a function package whose bootstrap is a shell script:
// the stand-in never runs it.
func fakePackage(t *testing.T) string {
	t.Helper()
	zip, err := aws.ZipBootstrap([]byte("#!/bin/sh\nexit 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(path, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func testConfig(t *testing.T, s *standin, w workloads.Workload, log *bytes.Buffer) aws.Config {
	return aws.Config{
		App: w.App, Workload: w.Name(),
		Region: "eu-central-1", EndpointURL: s.url, Credentials: dummyCredentials,
		RoleARN: testRole, Prefix: "t-", Package: fakePackage(t),
		Settle:       aws.Settle{Quiet: 300 * time.Millisecond, Poll: 50 * time.Millisecond, Max: 20 * time.Second},
		WaitMinDelay: 10 * time.Millisecond,
		Log:          log,
	}
}

func TestPlatformOnStandin(t *testing.T) {
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	s := startStandin(t, w.App)
	var log bytes.Buffer
	ctx := context.Background()
	p, err := aws.New(ctx, testConfig(t, s, w, &log))
	if err != nil {
		t.Fatal(err)
	}
	if p.Region() != "eu-central-1" {
		t.Errorf("region %q", p.Region())
	}

	// Before any deployment.
	if _, err := p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), []fusionsim.Arrival{{}}); !errors.Is(err, fusionsim.ErrNotDeployed) {
		t.Fatalf("Run before Deploy: %v, want ErrNotDeployed", err)
	}

	remote, err := workloads.Remote(w.App, "remote", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(ctx, remote); err != nil {
		t.Fatalf("Deploy: %v\n%s", err, log.String())
	}
	fns := s.sv.Functions()
	if len(fns) != 10 {
		t.Fatalf("%d functions after deploying the remote setup, want 10: %v", len(fns), fns)
	}
	for _, f := range fns {
		if !strings.HasPrefix(f.FunctionName, "t-fusion-function-") || !strings.HasSuffix(f.FunctionName, "-128") {
			t.Errorf("function name %s", f.FunctionName)
		}
		if f.Runtime != aws.Runtime || f.Handler != "bootstrap" || f.Role != testRole || f.MemorySize != 128 ||
			f.Architectures[0] != aws.X86 || f.State != "Active" || f.LoggingConfig.LogFormat != "Text" {
			t.Errorf("configuration of %s: %+v", f.FunctionName, f)
		}
		env := f.Environment.Variables
		if env[handler.EnvApp] != "iot" || env[handler.EnvSetup] != "remote" || env[handler.EnvPrefix] != "t-" {
			t.Errorf("environment of %s: %v", f.FunctionName, env)
		}
		row, err := handler.DecodeRules(env[handler.EnvRules])
		if err != nil || len(row) != len(remote.Rules[env[handler.EnvEntry]]) {
			t.Errorf("rules of %s: %v (%d rules)", f.FunctionName, err, len(row))
		}
	}
	if got := s.sv.Tables(); strings.Join(got, ",") != "t-SensorDataTable,t-UseCaseTable" {
		t.Errorf("tables %v", got)
	}

	// 30 requests at 60 requests/s to the entry route.
	arrivals, err := load.Constant(60, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	from := p.Now()
	resps, err := p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), arrivals)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	to := p.Now().Add(time.Nanosecond)
	if len(resps) != len(arrivals) {
		t.Fatalf("%d responses for %d arrivals", len(resps), len(arrivals))
	}
	for i, r := range resps {
		if r.StatusCode != 200 || r.Err != nil || r.RequestID == "" || r.Result["sensorId"] == nil || r.Latency() <= 0 {
			t.Fatalf("response %d: %+v", i, r)
		}
	}
	ext, err := trace.Collect(ctx, p, from, to, trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ext.Err(); err != nil {
		t.Errorf("extraction: %v", err)
	}
	recs := ext.Traces["remote"]
	roots := 0
	for _, r := range recs {
		if r.IsRootInvocation {
			roots++
		}
	}
	// All-remote IoT: 11 invocations per request (AS twice).
	if roots != len(arrivals) || len(recs) != 11*len(arrivals) {
		t.Errorf("%d records, %d roots; want %d and %d", len(recs), roots, 11*len(arrivals), len(arrivals))
	}
	if n := s.sv.Counts()["logs.FilterLogEvents"]; n < 20 {
		t.Errorf("%d FilterLogEvents calls: pagination over pages of 50 expected", n)
	}

	// A second setup: fused functions, the code is not uploaded again.
	fused, err := workloads.FromDescription(w.App, "fused", "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1024")
	if err != nil {
		t.Fatal(err)
	}
	before := s.sv.Counts()
	if err := p.Deploy(ctx, fused); err != nil {
		t.Fatalf("Deploy fused: %v", err)
	}
	after := s.sv.Counts()
	if d := after["lambda.UpdateFunctionCode"] - before["lambda.UpdateFunctionCode"]; d != 0 {
		t.Errorf("%d code updates for an unchanged package", d)
	}
	if d := after["lambda.CreateFunction"] - before["lambda.CreateFunction"]; d != 1 {
		t.Errorf("%d functions created for the fused setup, want 1 (AS-1024)", d)
	}
	from = p.Now()
	resps, err = p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), arrivals[:10])
	if err != nil {
		t.Fatal(err)
	}
	ext, err = trace.Collect(ctx, p, from, p.Now().Add(time.Nanosecond), trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ext.Traces["remote"]; ok || len(ext.Traces["fused"]) != 6*10 {
		t.Errorf("fused run: traces %v, %d records of fused (want 60: AS runs twice)", ext.Traces.Names(), len(ext.Traces["fused"]))
	}
	cold := 0
	for _, r := range ext.Traces["fused"] {
		if r.IsColdStart {
			cold++
		}
	}
	if cold < 5 {
		t.Errorf("%d cold starts after a redeployment, want at least one per function", cold)
	}

	// A new package (and another architecture): the code is updated once
	// per function, then the configuration.
	cfg2 := testConfig(t, s, w, &log)
	zip2, err := aws.ZipBootstrap([]byte("#!/bin/sh\nexit 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg2.Package, zip2, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg2.Architecture = aws.Arm64
	p2, err := aws.New(ctx, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	before = s.sv.Counts()
	if err := p2.Deploy(ctx, fused); err != nil {
		t.Fatalf("Deploy with a new package: %v", err)
	}
	after = s.sv.Counts()
	if d := after["lambda.UpdateFunctionCode"] - before["lambda.UpdateFunctionCode"]; d != 5 {
		t.Errorf("%d code updates for a new package over 5 functions, want 5", d)
	}
	for _, f := range s.sv.Functions() {
		if strings.Contains(f.Environment.Variables[handler.EnvSetup], "fused") && (f.Architectures[0] != aws.Arm64 || f.CodeSha256 != aws.CodeSha256(zip2)) {
			t.Errorf("%s after the code update: %v, %s", f.FunctionName, f.Architectures, f.CodeSha256)
		}
	}
	p = p2

	// Cold starts forced before every request.
	coldArr, err := load.Coldstart(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	before = s.sv.Counts()
	if _, err := p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), coldArr); err != nil {
		t.Fatal(err)
	}
	if d := s.sv.Counts()["lambda.UpdateFunctionConfiguration"] - before["lambda.UpdateFunctionConfiguration"]; d != 2*5 {
		t.Errorf("%d configuration updates for 2 cold requests over 5 functions, want 10", d)
	}

	// Teardown: a dry run lists, then everything of the prefix goes.
	tc := aws.TeardownConfig{Config: testConfig(t, s, w, &log), DryRun: true}
	res, err := aws.Teardown(ctx, tc)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Functions) != 11 || len(res.Tables) != 2 || len(res.LogGroups) != 11 {
		t.Errorf("teardown dry run found %d functions, %d tables, %d log groups; want 11, 2, 11", len(res.Functions), len(res.Tables), len(res.LogGroups))
	}
	if len(s.sv.Functions()) != 11 {
		t.Errorf("the dry run deleted something")
	}
	tc.DryRun = false
	if _, err := aws.Teardown(ctx, tc); err != nil {
		t.Fatal(err)
	}
	if left, err := aws.Teardown(ctx, aws.TeardownConfig{Config: tc.Config, DryRun: true}); err != nil || !left.Empty() {
		t.Errorf("after teardown: %+v, %v", left, err)
	}
}

func TestDeployChecks(t *testing.T) {
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	s := startStandin(t, w.App)
	ctx := context.Background()
	var log bytes.Buffer
	cfg := testConfig(t, s, w, &log)
	cfg.RoleARN = ""
	p, err := aws.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	remote, _ := workloads.Remote(w.App, "remote", 0)
	if err := p.Deploy(ctx, remote); err == nil || !strings.Contains(err.Error(), "--aws-role-arn") {
		t.Errorf("deploy without a role: %v", err)
	}

	cfg = testConfig(t, s, w, &log)
	cfg.MemorySizes = []int{128, 1024}
	p, err = aws.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	big, _ := workloads.Remote(w.App, "big", 3008)
	if err := p.Deploy(ctx, big); err == nil || !strings.Contains(err.Error(), "--aws-memory-sizes") {
		t.Errorf("deploy of a size outside --aws-memory-sizes: %v", err)
	}
	if n := len(s.sv.Functions()); n != 0 {
		t.Errorf("%d functions created by failed deployments", n)
	}

	for _, bad := range []struct {
		mod  func(*aws.Config)
		want string
	}{
		{func(c *aws.Config) { c.Architecture = "sparc" }, "--aws-arch"},
		{func(c *aws.Config) { c.Prefix = "bad prefix" }, "--aws-prefix"},
		{func(c *aws.Config) { c.RoleARN = "fusion-role" }, "--aws-role-arn"},
		{func(c *aws.Config) { c.EndpointURL = "localhost:4566" }, "--endpoint-url"},
		{func(c *aws.Config) { c.TimeoutS = 1000 }, "--aws-timeout"},
	} {
		c := testConfig(t, s, w, &log)
		bad.mod(&c)
		if _, err := aws.New(ctx, c); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("config error %v does not name %s", err, bad.want)
		}
	}
}

// TestPlatformOnRemoteEmulator runs the backend against a stand-in that
// reaches the emulator over HTTP (as with a separate cmd/emulator).
func TestPlatformOnRemoteEmulator(t *testing.T) {
	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	boot, _ := workloads.Remote(w.App, "boot", 0)
	emu, err := lambdaapi.New(lambdaapi.Config{
		App: w.App, Setups: fusionsim.Configs{"boot": boot}, Profile: awsstandin.QuickProfile(), TimeScale: 1, Epoch: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	emuSrv := httptest.NewServer(emu.Handler())
	backend, err := awsstandin.RemoteEmulator(emuSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	awsSrv := httptest.NewServer(awsstandin.New(awsstandin.Config{Backend: backend}))
	defer func() {
		awsSrv.Close()
		emuSrv.Close()
		emu.Close(context.Background())
	}()
	var log bytes.Buffer
	cfg := testConfig(t, &standin{url: awsSrv.URL}, w, &log)
	ctx := context.Background()
	p, err := aws.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	local, err := workloads.Local(w.App, "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(ctx, local); err != nil {
		t.Fatal(err)
	}
	if names := p.FunctionNames(); len(names) != 1 || names[0] != "t-fusion-function-I-128" {
		t.Errorf("the local setup deployed %v, want only I", names)
	}
	from := p.Now()
	arrivals, _ := load.Constant(50, 200*time.Millisecond)
	resps, err := p.Run(ctx, fusionsim.MustParseRoute("SYNC-I-128"), arrivals)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resps {
		if r.StatusCode != 200 {
			t.Fatalf("response %d: %+v", i, r)
		}
	}
	ext, err := trace.Collect(ctx, p, from, p.Now().Add(time.Nanosecond), trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if recs := ext.Traces["local"]; len(recs) != len(arrivals) || ext.Err() != nil {
		t.Errorf("%d records of the local setup for %d requests (%v)", len(recs), len(arrivals), ext.Err())
	}
}
