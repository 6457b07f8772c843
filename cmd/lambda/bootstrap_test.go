package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/aws/handler"
	"github.com/fusionsim/fusionsim/awsstandin"
	"github.com/fusionsim/fusionsim/trace"
	"github.com/fusionsim/fusionsim/workloads"
)

// call is one remote call the bootstrap made through the Invoke API.
type call struct {
	function string // the emulator-style id, e.g. SE-128
	invType  string // X-Amz-Invocation-Type
	env      handler.Envelope
}

// recorder is the stand-in's backend: it records the remote calls and
// answers them (SE's sync call fails while failSE is set).
type recorder struct {
	mu     sync.Mutex
	calls  []call
	failSE bool
	setups []string
}

func (r *recorder) Deploy(_ context.Context, s *fusionsim.Setup) error {
	r.mu.Lock()
	r.setups = append(r.setups, s.Name())
	r.mu.Unlock()
	return nil
}

func (r *recorder) Invoke(w http.ResponseWriter, req *http.Request, id fusionsim.FunctionID) {
	var env handler.Envelope
	body, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	typ := req.Header.Get("X-Amz-Invocation-Type")
	r.mu.Lock()
	r.calls = append(r.calls, call{function: id.Short(), invType: typ, env: env})
	fail := r.failSE && id.Task == "SE"
	r.mu.Unlock()
	switch {
	case typ == "Event":
		w.WriteHeader(http.StatusAccepted)
	case fail:
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"errorType":"Boom","errorMessage":"SE failed on purpose"}`))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"stored":1}`))
	}
}

func (r *recorder) Logs(context.Context, fusionsim.FunctionID) ([]awsstandin.LogEvent, error) {
	return nil, nil
}

func (r *recorder) callsOf(traceID string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if c.env.Fusion.TraceID == traceID {
			out = append(out, c)
		}
	}
	return out
}

// buildBootstrap builds the function package for the host's architecture
// as the AWS backend deploys it and unpacks its bootstrap.
func buildBootstrap(t *testing.T, ctx context.Context) string {
	t.Helper()
	var arch string
	switch {
	case runtime.GOOS == "linux" && runtime.GOARCH == "amd64":
		arch = aws.X86
	case runtime.GOOS == "linux" && runtime.GOARCH == "arm64":
		arch = aws.Arm64
	default:
		t.Skipf("the bootstrap runs on linux/amd64 or linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	pkg, err := aws.BuildPackage(ctx, arch, "../..")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("package content: %v", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	path := filepath.Join(t.TempDir(), "bootstrap")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// testSetup runs I with CW and DJ local sync, CA local async, SE remote
// sync and CT, CS, AS remote async.
func testSetup(t *testing.T, app *fusionsim.App) *fusionsim.Setup {
	s, err := workloads.Remote(app, "rt", 0)
	if err != nil {
		t.Fatal(err)
	}
	row := s.Rules["I"]
	for _, local := range []struct {
		task string
		sync bool
	}{{"CW", true}, {"DJ", true}, {"CA", false}} {
		p := row[local.task]
		if local.sync {
			p.Sync = fusionsim.Rule{Strategy: fusionsim.Local}
		} else {
			p.Async = fusionsim.Rule{Strategy: fusionsim.Local}
		}
		row[local.task] = p
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBootstrapThroughRuntimeAPI builds the function package, runs its
// bootstrap against a Runtime API stand-in with the AWS APIs on the AWS
// stand-in, and sends it a client request, a call from another function and
// a request whose remote sync call fails.
func TestBootstrapThroughRuntimeAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bootstrap := buildBootstrap(t, ctx)

	w, err := workloads.Get("iot")
	if err != nil {
		t.Fatal(err)
	}
	setup := testSetup(t, w.App)
	const prefix = "rt-"

	// The AWS APIs: functions of the remote calls, tables.
	rec := &recorder{}
	awsSrv := httptest.NewServer(awsstandin.New(awsstandin.Config{Backend: rec}))
	defer awsSrv.Close()
	creds := credentials.NewStaticCredentialsProvider("AKIDSTANDINTEST", "standin-secret", "")
	cfg := sdk.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: sdk.String(awsSrv.URL)}
	lc := lambdasvc.NewFromConfig(cfg)
	db := dynamodb.NewFromConfig(cfg)
	for _, table := range aws.DefaultTables {
		_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            sdk.String(prefix + table),
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: sdk.String("SensorID"), KeyType: ddbtypes.KeyTypeHash}},
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: sdk.String("SensorID"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, task := range []string{"SE", "CT", "CS", "AS"} {
		id := fusionsim.FunctionID{Task: task, MemoryMB: 128}
		env, err := handler.Environment("iot", id, setup, prefix, 0, "1")
		if err != nil {
			t.Fatal(err)
		}
		_, err = lc.CreateFunction(ctx, &lambdasvc.CreateFunctionInput{
			FunctionName: sdk.String(handler.FunctionName(prefix, id)), Role: sdk.String("arn:aws:iam::123456789012:role/x"),
			Runtime: types.RuntimeProvidedal2023, Handler: sdk.String("bootstrap"), MemorySize: sdk.Int32(128),
			Code: &types.FunctionCode{ZipFile: []byte("zip")}, Environment: &types.Environment{Variables: env},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// The function under test: I at 256 MB.
	rapi := awsstandin.NewRuntimeAPI("arn:aws:lambda:us-east-1:123456789012:function:rt-fusion-function-I-256")
	rtSrv := httptest.NewServer(rapi)
	defer rtSrv.Close()
	rtURL, _ := url.Parse(rtSrv.URL)
	env, err := handler.Environment("iot", fusionsim.FunctionID{Task: "I", MemoryMB: 256}, setup, prefix, 0, "1")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bootstrap)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + rtURL.Host,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_NAME=rt-fusion-function-I-256",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDSTANDINTEST", "AWS_SECRET_ACCESS_KEY=standin-secret",
		"AWS_ENDPOINT_URL=" + awsSrv.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"HOME=" + t.TempDir(),
		"LAMBDA_TASK_ROOT=" + filepath.Dir(bootstrap),
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			<-readDone
			cmd.Wait()
		}
	}
	defer stop()

	// 1: a client request; 2: a call from another function at depth 3;
	// 3: a client request whose sync call to SE fails.
	const callerTrace = "rt-I-128-0123456789abcdef0123456789abcdef"
	call2, _ := json.Marshal(handler.Envelope{Fusion: handler.CallInfo{TraceID: callerTrace, Depth: 3}, Event: fusionsim.Event{}})
	var results []awsstandin.RuntimeResult
	for i, payload := range [][]byte{[]byte(`{}`), call2, []byte(`{}`)} {
		if i == 2 {
			rec.mu.Lock()
			rec.failSE = true
			rec.mu.Unlock()
		}
		r, err := rapi.Invoke(ctx, payload, time.Minute)
		if err != nil {
			t.Fatalf("invocation %d: %v\nstderr:\n%s", i+1, err, stderr.String())
		}
		results = append(results, r)
	}
	peakMB := peakMemoryMB(cmd.Process.Pid)
	stop()

	// The outcomes.
	for i, r := range results[:2] {
		var out fusionsim.Event
		if r.ErrorType != "" || json.Unmarshal(r.Payload, &out) != nil || out["sensorId"] == nil {
			t.Errorf("invocation %d: error %q, payload %s", i+1, r.ErrorType, r.Payload)
		}
	}
	if r := results[2]; r.ErrorType != "Boom" || !strings.Contains(string(r.Payload), "SE failed on purpose") {
		t.Errorf("invocation 3: error type %q (want Boom, the remote function's), payload %s", r.ErrorType, r.Payload)
	}

	// The log as Lambda would store it: START, the function's lines, END
	// and REPORT for every invocation.
	var log []fusionsim.LogLine
	for i, r := range results {
		add := func(text string) {
			log = append(log, fusionsim.LogLine{Function: "rt-fusion-function-I-256", Text: text})
		}
		add(string(fusionsim.AppendStart(nil, r.RequestID)))
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "\t"+r.RequestID+"\t") {
				add(l)
				n++
			}
		}
		if n == 0 {
			t.Fatalf("invocation %d wrote no line; stdout:\n%s", i+1, strings.Join(lines, "\n"))
		}
		add(string(fusionsim.AppendEnd(nil, r.RequestID)))
		rep := fusionsim.Report{RequestID: r.RequestID, Duration: r.End.Sub(r.Start), MemoryMB: 256, MaxMemoryUsedMB: peakMB}
		rep.BilledMs = int64((rep.Duration + time.Millisecond - 1) / time.Millisecond)
		if i == 0 {
			rep.InitDuration = 50 * time.Millisecond
		}
		add(string(fusionsim.AppendReport(nil, rep)))
	}
	if os.Getenv("SHOWLOG") != "" {
		t.Log(joinLines(log))
	}
	ext := trace.Extract(log, trace.Options{})
	if err := ext.Err(); err != nil {
		t.Fatalf("extraction: %v\nlog:\n%s", err, joinLines(log))
	}
	recs := ext.Traces["rt"]
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(recs), joinLines(log))
	}
	byReq := map[bool][]trace.Record{}
	for _, r := range recs {
		byReq[r.IsRootInvocation] = append(byReq[r.IsRootInvocation], r)
	}
	if len(byReq[true]) != 2 || len(byReq[false]) != 1 {
		t.Fatalf("root records %d, called %d; want 2 and 1", len(byReq[true]), len(byReq[false]))
	}
	called := byReq[false][0]
	if called.TraceID != callerTrace || called.IsColdStart || called.MemoryAvail != "256" || called.CurrentFunction != "I" {
		t.Errorf("called invocation's record: %+v", called)
	}
	var first trace.Record
	for _, r := range byReq[true] {
		if r.IsColdStart {
			first = r
		}
		if !strings.HasPrefix(r.TraceID, "rt-I-256-") || len(r.TraceID) != len("rt-I-256-")+32 {
			t.Errorf("root trace id %q", r.TraceID)
		}
	}
	if first.TraceID == "" {
		t.Fatalf("no root record is a cold start: %+v", byReq[true])
	}
	want := map[string]bool{
		"local sync I": true, "local sync CW": true, "remote sync SE": true, "local async CA": true,
		"remote async CT": true, "remote async CS": true, "local sync DJ": true, "remote async AS": true,
	}
	got := map[string]bool{}
	for _, c := range first.Calls {
		if c.Caller != "I" || c.Time < 0 {
			t.Errorf("call %+v", c)
		}
		got[map[bool]string{true: "local ", false: "remote "}[c.Local]+map[bool]string{true: "sync ", false: "async "}[c.Sync]+c.Called] = true
	}
	if len(first.Calls) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls of the first request: %v, want %v", first.Calls, want)
	}
	if first.InternalDuration < 0 || first.BilledDuration < first.InternalDuration {
		t.Errorf("durations of the first request: internal %d ms, billed %d ms", first.InternalDuration, first.BilledDuration)
	}

	// The remote calls the bootstrap made, with the request's trace id and
	// the call depth.
	checkCalls := func(traceID string, depth int, wantCalls map[string]string) {
		t.Helper()
		got := map[string]string{}
		for _, c := range rec.callsOf(traceID) {
			got[c.function] = fmt.Sprintf("%s/%d", c.invType, c.env.Fusion.Depth)
			if c.function == "AS-128" && c.env.Event.Int("chain", -1) != 5 {
				t.Errorf("AS's event %v: chain 5 expected (the call from CA)", c.env.Event)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantCalls) {
			t.Errorf("remote calls of %s: %v, want %v", traceID, got, wantCalls)
		}
	}
	checkCalls(first.TraceID, 1, map[string]string{
		"SE-128": "RequestResponse/2", "CT-128": "Event/2", "CS-128": "Event/2", "AS-128": "Event/3",
	})
	checkCalls(callerTrace, 3, map[string]string{
		"SE-128": "RequestResponse/4", "CT-128": "Event/4", "CS-128": "Event/4", "AS-128": "Event/5",
	})

	// DJ ran in-process and stored into DynamoDB.
	var out fusionsim.Event
	json.Unmarshal(results[0].Payload, &out)
	key := strconv.Itoa(out.Int("sensorId", -1))
	if msg := tableItems(t, awsSrv.URL, prefix+workloads.UseCaseTable)[key]; !strings.HasPrefix(msg, "jam ") {
		t.Errorf("UseCaseTable[%s] = %q, want DJ's jam message", key, msg)
	}
}

// tableItems reads the items of keys 0..100 (IoT's sensor ids) through the
// DynamoDB API, with the handler's Query.
func tableItems(t *testing.T, endpoint, table string) map[string]string {
	t.Helper()
	creds := credentials.NewStaticCredentialsProvider("AKIDSTANDINTEST", "standin-secret", "")
	db := dynamodb.NewFromConfig(sdk.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: sdk.String(endpoint)})
	items := map[string]string{}
	tables := handler.Tables{DB: db}
	for k := int64(0); k <= 100; k++ {
		its, err := tables.Query(context.Background(), table, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range its {
			items[strconv.FormatInt(it.Key, 10)] = it.Message
		}
	}
	return items
}

// peakMemoryMB reads the process's peak resident memory (VmHWM) from /proc.
func peakMemoryMB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return (kb + 1023) / 1024
		}
	}
	return 1
}

func joinLines(ls []fusionsim.LogLine) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
