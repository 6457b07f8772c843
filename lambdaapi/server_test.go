package lambdaapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/trace"
)

type testServer struct {
	*Server
	http   *httptest.Server
	client *lambda.Client
	out    string
	closed bool
}

// newTestServer serves testApp under its remote setup, 1000 times as fast
// as real time, writing to a fresh out directory.
func newTestServer(t *testing.T, edit func(*Config)) *testServer {
	t.Helper()
	app := testApp()
	out := filepath.Join(t.TempDir(), "out")
	cfg := Config{
		App:       app,
		Setups:    fusionsim.Configs{"remote": remoteSetup(app, "remote")},
		Seed:      1,
		TimeScale: 1000,
		Out:       out,
		Log:       testWriter{t},
		NoFigures: true, // slow under the race detector; TestRedeployAndOutput draws them
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	must(t, err)
	ts := &testServer{Server: s, http: httptest.NewServer(s.Handler()), out: out}
	ts.client = lambda.New(lambda.Options{
		BaseEndpoint: aws.String(ts.http.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFUSIONSIM", "dummy-secret", ""),
		Retryer:      aws.NopRetryer{},
	})
	t.Cleanup(func() { ts.close(t) })
	return ts
}

func (ts *testServer) close(t *testing.T) {
	if ts.closed {
		return
	}
	ts.closed = true
	ts.http.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, ts.Server.Close(ctx))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// post sends body to path and returns the status, headers and body.
func (ts *testServer) post(t *testing.T, path, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	return ts.do(t, http.MethodPost, path, strings.NewReader(body), headers...)
}

func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.http.URL+path, body)
	must(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, resp.Header, b
}

// requireServiceError checks a service error answer.
func requireServiceError(t *testing.T, status int, h http.Header, body []byte, wantStatus int, wantType string) map[string]any {
	t.Helper()
	equal(t, wantStatus, status, "body: %s", body)
	equal(t, wantType, h.Get("X-Amzn-ErrorType"))
	var m map[string]any
	must(t, json.Unmarshal(body, &m), "body: %s", body)
	check(t, m["Message"] != "" && m["Message"] != nil, "empty Message")
	equal(t, m["Message"], m["message"])
	return m
}

func TestSDKInvokeSyncReturnsResultAndLogTail(t *testing.T) {
	ts := newTestServer(t, nil)
	ctx := context.Background()
	out, err := ts.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String("fusion-function-ROOT-128"),
		Payload:      []byte(`{"n": 41}`),
		LogType:      types.LogTypeTail,
	})
	must(t, err)
	equal(t, int32(200), out.StatusCode)
	check(t, out.FunctionError == nil, "FunctionError set")
	jsonEq(t, `{"child": 42}`, string(out.Payload))
	equal(t, "$LATEST", aws.ToString(out.ExecutedVersion))

	reqID, ok := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	check(t, ok)
	check(t, out.LogResult != nil, "no LogResult")
	tail, err := base64.StdEncoding.DecodeString(*out.LogResult)
	must(t, err)
	log := string(tail)
	contains(t, log, "START RequestId: "+reqID+" Version: $LATEST\n")
	contains(t, log, "END RequestId: "+reqID+"\n")
	matches(t, `REPORT RequestId: `+reqID+`\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: [0-9]+ MB`, log)
	contains(t, log, `"type":"init"`)
	// Only this invocation's lines: CHILD ran in another function.
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		id, _ := requestIDOf([]byte(line))
		equal(t, reqID, id, "line %q", line)
	}

	// The short name works too, and without Tail there is no log.
	out, err = ts.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ECHO-128"), Payload: []byte(`{"a":"b"}`)})
	must(t, err)
	jsonEq(t, `{"echo":{"a":"b"}}`, string(out.Payload))
	check(t, out.LogResult == nil, "LogResult without Tail")
}

func TestSDKLogTailIsTheLast4KB(t *testing.T) {
	ts := newTestServer(t, nil)
	out, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String("fusion-function-CHATTY-128"),
		Payload:      []byte(`{"lines": 300}`),
		LogType:      types.LogTypeTail,
	})
	must(t, err)
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	must(t, err)
	equal(t, tailBytes, len(tail))
	check(t, bytes.HasSuffix(tail, []byte("\n")))
	contains(t, string(tail), "REPORT RequestId: ")
	contains(t, string(tail), "line 0299 ")
	notContains(t, string(tail), "line 0000 ")
}

func TestSDKEventInvokeAnswers202(t *testing.T) {
	ts := newTestServer(t, nil)
	out, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName:   aws.String("fusion-function-ROOT-128"),
		InvocationType: types.InvocationTypeEvent,
		Payload:        []byte(`{"n": 1}`),
	})
	must(t, err)
	equal(t, int32(202), out.StatusCode)
	equal(t, 0, len(out.Payload))

	out, err = ts.client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName:   aws.String("ROOT-128"),
		InvocationType: types.InvocationTypeDryRun,
	})
	must(t, err)
	equal(t, int32(204), out.StatusCode)

	// The event ran: after Close its root invocation is in the traces.
	ts.close(t)
	recs, err := trace.ReadTraceFile(filepath.Join(ts.out, results.TracesDir, "remote.json"))
	must(t, err)
	equal(t, 1, rootCount(recs), "the DryRun must not run")
}

func TestSDKUnknownFunctionIsResourceNotFound(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, name := range []string{"fusion-function-NOPE-128", "NOPE", "ROOT-64", "arn:aws:lambda:us-east-1:123456789012:function:NOPE-128"} {
		_, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
		var rnf *types.ResourceNotFoundException
		check(t, errors.As(err, &rnf), "%s: %v", name, err)
		check(t, rnf.ErrorMessage() != "", name)
	}
	// A qualifier other than $LATEST does not exist.
	_, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("ROOT-128"), Qualifier: aws.String("7")})
	var rnf *types.ResourceNotFoundException
	check(t, errors.As(err, &rnf), err)
	// The full ARN and $LATEST work.
	out, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(functionARN("fusion-function-ECHO-128")), Qualifier: aws.String("$LATEST"), Payload: []byte(`{}`)})
	must(t, err)
	equal(t, int32(200), out.StatusCode)
}

func TestSDKFailingTaskIsFunctionError(t *testing.T) {
	ts := newTestServer(t, nil)
	out, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String("fusion-function-FAIL-128"),
		Payload:      []byte(`{}`),
		LogType:      types.LogTypeTail,
	})
	must(t, err)
	equal(t, int32(200), out.StatusCode)
	equal(t, "Unhandled", aws.ToString(out.FunctionError))
	var body struct {
		ErrorMessage string   `json:"errorMessage"`
		ErrorType    string   `json:"errorType"`
		StackTrace   []string `json:"stackTrace"`
	}
	must(t, json.Unmarshal(out.Payload, &body))
	equal(t, "Error", body.ErrorType)
	contains(t, body.ErrorMessage, "boom: the task failed on purpose")
	check(t, body.StackTrace != nil, "no stackTrace")
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	must(t, err)
	contains(t, string(tail), "Invoke Error")
}

func TestSDKThrottledIsTooManyRequests(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.ReservedConcurrency = map[string]int{"SLOW-128": 1}
		c.TimeScale = 100
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 50 s of modeled sleep, 500 ms of wall time at scale 100:
			// the second request arrives while the first runs.
			_, errs[i] = ts.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("SLOW-128"), Payload: []byte(`{"ms": 50000}`)})
		}()
	}
	wg.Wait()
	var throttled int
	for _, err := range errs {
		var tmr *types.TooManyRequestsException
		if errors.As(err, &tmr) {
			throttled++
			equal(t, types.ThrottleReasonConcurrentInvocationLimitExceeded, tmr.Reason)
			equal(t, "1", aws.ToString(tmr.RetryAfterSeconds))
			contains(t, tmr.ErrorMessage(), "Rate Exceeded")
		} else {
			must(t, err)
		}
	}
	equal(t, 1, throttled, "errors: %v", errs)
}

func TestSDKListFunctions(t *testing.T) {
	ts := newTestServer(t, nil)
	out, err := ts.client.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	must(t, err)
	var names []string
	for _, f := range out.Functions {
		names = append(names, aws.ToString(f.FunctionName))
		equal(t, int32(128), aws.ToInt32(f.MemorySize))
		equal(t, functionARN(aws.ToString(f.FunctionName)), aws.ToString(f.FunctionArn))
	}
	equal(t, []string{"fusion-function-BADJSON-128", "fusion-function-CHATTY-128", "fusion-function-CHILD-128", "fusion-function-CHILD2-128",
		"fusion-function-ECHO-128", "fusion-function-FAIL-128", "fusion-function-ROOT-128", "fusion-function-SLOW-128"}, names)

	got, err := ts.client.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("ECHO-128")})
	must(t, err)
	equal(t, "fusion-function-ECHO-128", aws.ToString(got.Configuration.FunctionName))

	// Under the local setup only the entry function is deployed.
	code, _, body := ts.do(t, http.MethodPut, "/emulator/setup", bytes.NewReader(configsJSON(t, fusionsim.Configs{"local": localSetup(testApp(), "local")})))
	equal(t, 200, code, "%s", body)
	out, err = ts.client.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	must(t, err)
	equal(t, 1, len(out.Functions))
	equal(t, "fusion-function-ROOT-128", aws.ToString(out.Functions[0].FunctionName))
}

func TestGatewayRoutes(t *testing.T) {
	ts := newTestServer(t, nil)
	code, h, body := ts.post(t, "/SYNC-ROOT-128", `{"n": 1}`)
	equal(t, 200, code)
	jsonEq(t, `{"child": 2}`, string(body))
	equal(t, 36, len(h.Get("X-Amzn-RequestId")))

	code, _, body = ts.post(t, "/SYNC-ECHO", `{"k": [1, 2]}`)
	equal(t, 200, code)
	jsonEq(t, `{"echo": {"k": [1, 2]}}`, string(body))

	for _, path := range []string{"/ROOT-128", "/ROOT"} {
		code, _, body = ts.post(t, path, `{}`)
		equal(t, 202, code, "%s: %s", path, body)
		equal(t, 0, len(body))
	}

	code, h, body = ts.post(t, "/SYNC-FAIL-128", `{}`)
	equal(t, 502, code)
	equal(t, "Unhandled", h.Get("X-Amz-Function-Error"))
	contains(t, string(body), "boom")

	code, h, body = ts.post(t, "/SYNC-NOPE-128", `{}`)
	m := requireServiceError(t, code, h, body, 404, ErrResourceNotFound)
	contains(t, m["Message"], `"NOPE" is not a task of testapp`)

	code, h, body = ts.post(t, "/SYNC-ROOT-99999", `{}`)
	requireServiceError(t, code, h, body, 404, ErrResourceNotFound)

	ts.close(t)
	recs, err := trace.ReadTraceFile(filepath.Join(ts.out, results.TracesDir, "remote.json"))
	must(t, err)
	equal(t, 5, rootCount(recs))
}

// TestBadInputKeepsServing sends every kind of bad request and checks the
// documented error and that the server still serves.
func TestBadInputKeepsServing(t *testing.T) {
	ts := newTestServer(t, nil)
	invoke := "/2015-03-31/functions/fusion-function-ECHO-128/invocations"
	stillServes := func() {
		t.Helper()
		code, _, body := ts.post(t, "/SYNC-ECHO-128", `{"ok": true}`)
		equal(t, 200, code, "%s", body)
		jsonEq(t, `{"echo":{"ok":true}}`, string(body))
	}
	sixMB := int(6 << 20)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		errType, mention         string
	}{
		{"malformed JSON, invoke", "POST", invoke, `{"a":`, nil, 400, ErrInvalidRequestContent, "Could not parse request body into json"},
		{"malformed JSON, route", "POST", "/SYNC-ECHO-128", `{nope}`, nil, 400, ErrInvalidRequestContent, "Could not parse request body into json"},
		{"not an object", "POST", invoke, `[1,2]`, nil, 400, ErrInvalidRequestContent, "not an array"},
		{"oversize sync invoke", "POST", invoke, `{"x":"` + strings.Repeat("a", sixMB) + `"}`, nil, 413, ErrRequestTooLarge, "6291456 bytes"},
		{"oversize async invoke", "POST", invoke, `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, []string{"X-Amz-Invocation-Type", "Event"}, 413, ErrRequestTooLarge, "1048576 bytes"},
		{"oversize async route", "POST", "/ECHO-128", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, ErrRequestTooLarge, "1048576 bytes"},
		{"unknown route", "POST", "/no/such/route", `{}`, nil, 404, ErrUnknownOperation, "no route POST /no/such/route"},
		{"unknown path", "GET", "/emulator/nothing", ``, nil, 404, ErrUnknownOperation, "GET / lists the routes"},
		{"wrong method", "GET", "/SYNC-ECHO-128", ``, nil, 405, ErrMethodNotAllowed, "GET is not allowed"},
		{"bad invocation type", "POST", invoke, `{}`, []string{"X-Amz-Invocation-Type", "Sometimes"}, 400, ErrInvalidParameterValue, `"Sometimes"`},
		{"bad log type", "POST", invoke, `{}`, []string{"X-Amz-Log-Type", "All"}, 400, ErrInvalidParameterValue, `"All"`},
		{"unknown setup task", "PUT", "/emulator/setup", `{"s2":{"traceName":"s2","rules":{"ROOT":{"GHOST":{"sync":{"strategy":"local"},"async":{"strategy":"remote","url":"GHOST-128"}}},"PHANTOM":{}}}}`, nil, 400, ErrInvalidRequestContent, "PHANTOM"},
		{"malformed setup", "PUT", "/emulator/setup", `{"s2":{"traceName":"s2","rules":{"ROOT":{"ECHO":{"sync":{"strategy":"sideways"}}}}}}`, nil, 400, ErrInvalidRequestContent, "sideways"},
		{"setup not JSON", "POST", "/emulator/setup", `rules!`, nil, 400, ErrInvalidRequestContent, "configuration metadata"},
		{"setup name missing", "PUT", "/emulator/setup?name=zzz", string(configsJSON(t, fusionsim.Configs{"local": localSetup(testApp(), "local")})), nil, 404, ErrResourceNotFound, `"zzz"`},
		{"setup name reused", "PUT", "/emulator/setup", string(configsJSON(t, fusionsim.Configs{"remote": localSetup(testApp(), "remote")})), nil, 409, ErrResourceConflict, "another name"},
		{"traces of unknown setup", "GET", "/emulator/traces/nothing", ``, nil, 404, ErrResourceNotFound, "nothing"},
		{"log of unknown function", "GET", "/emulator/logs/NOPE-128", ``, nil, 404, ErrResourceNotFound, "NOPE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, h, body := ts.do(t, c.method, c.path, strings.NewReader(c.body), c.headers...)
			m := requireServiceError(t, code, h, body, c.status, c.errType)
			contains(t, m["Message"], c.mention)
			if c.name == "unknown setup task" {
				contains(t, m["Message"], "GHOST, PHANTOM")
			}
			stillServes()
		})
	}
	// The setup is unchanged by the failed uploads.
	code, _, body := ts.do(t, "GET", "/emulator/setup", nil)
	equal(t, 200, code)
	contains(t, string(body), `"remote":`)
}

func TestPanicBecomes500(t *testing.T) {
	ts := newTestServer(t, nil)
	code, h, body := ts.post(t, "/SYNC-BADJSON-128", `{}`)
	requireServiceError(t, code, h, body, 500, ErrService)
	code, _, _ = ts.post(t, "/SYNC-ECHO-128", `{}`)
	equal(t, 200, code)
	st, err := ts.Stats(context.Background())
	must(t, err)
	equal(t, int64(1), st.HTTP.Panics)
}

func TestRedeployAndOutput(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.NoFigures = false })
	code, _, body := ts.post(t, "/SYNC-ROOT-128", `{}`)
	equal(t, 200, code, "%s", body)

	// Deploy "local" (gzip) from metadata holding two setups, by name.
	app := testApp()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(configsJSON(t, fusionsim.Configs{"local": localSetup(app, "local"), "zlast": remoteSetup(app, "zlast")}))
	zw.Close()
	code, _, body = ts.do(t, http.MethodPut, "/emulator/setup?name=local", &gz)
	equal(t, 200, code, "%s", body)
	jsonEq(t, `{"deployed":"local","functions":["fusion-function-ROOT-128"]}`, string(body))

	code, _, body = ts.do(t, http.MethodGet, "/emulator/setup", nil)
	equal(t, 200, code)
	c, err := fusionsim.ParseConfigs(body)
	must(t, err)
	equal(t, []string{"local"}, c.Names())

	for range 3 {
		code, _, body = ts.post(t, "/SYNC-ROOT-128", `{}`)
		equal(t, 200, code, "%s", body)
	}
	// Redeploying the same setup under its name is allowed.
	code, _, body = ts.do(t, http.MethodPost, "/emulator/setup", bytes.NewReader(configsJSON(t, fusionsim.Configs{"local": localSetup(app, "local")})))
	equal(t, 200, code, "%s", body)

	// Live views of logs and traces.
	code, _, body = ts.do(t, http.MethodGet, "/emulator/traces", nil)
	equal(t, 200, code)
	var list struct {
		Setups []traceSummary `json:"setups"`
	}
	must(t, json.Unmarshal(body, &list))
	equal(t, 2, len(list.Setups))
	equal(t, traceSummary{Setup: "local", Records: 3, RootInvocations: 3, URL: "/emulator/traces/local"}, list.Setups[0])
	equal(t, "remote", list.Setups[1].Setup)
	equal(t, 1, list.Setups[1].RootInvocations)

	code, _, body = ts.do(t, http.MethodGet, "/emulator/traces/local", nil)
	equal(t, 200, code)
	recs, err := trace.ParseRecords(body)
	must(t, err)
	equal(t, 3, len(recs))
	for _, r := range recs {
		equal(t, "ROOT", r.CurrentFunction)
		for _, call := range r.Calls {
			check(t, call.Local, "%+v", call)
		}
	}

	code, _, body = ts.do(t, http.MethodGet, "/emulator/logs/ROOT-128", nil)
	equal(t, 200, code)
	equal(t, 4, strings.Count(string(body), "REPORT RequestId: "))
	full := body
	code, h, body := ts.do(t, http.MethodGet, "/emulator/logs/fusion-function-ROOT-128", nil, "Range", "bytes=100-")
	equal(t, http.StatusPartialContent, code)
	equal(t, string(full[100:]), string(body))
	contains(t, h.Get("Content-Range"), fmt.Sprintf("bytes 100-%d/%d", len(full)-1, len(full)))
	code, _, body = ts.do(t, http.MethodGet, "/emulator/logs", nil)
	equal(t, 200, code)
	contains(t, string(body), `"function":"fusion-function-CHILD-128"`)

	code, _, body = ts.do(t, http.MethodGet, "/emulator/setups", nil)
	equal(t, 200, code)
	all, err := fusionsim.ParseConfigs(body)
	must(t, err)
	equal(t, []string{"local", "remote"}, all.Names())

	ts.close(t)
	// The output is a results directory.
	d, err := results.Read(ts.out, results.ReadOptions{})
	must(t, err)
	equal(t, []string{"remote", "local"}, d.Names, "setups in the order deployed")
	equal(t, []string{"local", "remote"}, d.Configs.Names())
	equal(t, 3, rootCount(d.Traces["local"]))
	equal(t, 1, rootCount(d.Traces["remote"]))
	equal(t, 3, len(d.Traces["remote"]), "ROOT, CHILD, CHILD2")
	equal(t, 2, len(d.Rows))
	equal(t, "remote", d.Rows[0].Setup)
	equal(t, 1, d.Rows[0].Requests)
	equal(t, 3, d.Rows[0].Invocations)
	equal(t, "local", d.Rows[1].Setup)
	equal(t, 3, d.Rows[1].Requests)
	equal(t, 0, d.Rows[1].Errors)
	equal(t, 3, len(d.Responses["local"]))
	for _, r := range d.Responses["local"] {
		equal(t, 200, r.StatusCode)
		check(t, r.Latency() > 0, r)
	}
	for _, f := range []string{"fusion-function-ROOT-128.log", "fusion-function-CHILD-128.log", "fusion-function-CHILD2-128.log"} {
		_, err := os.Stat(filepath.Join(ts.out, results.LogsDir, f))
		must(t, err)
	}
	figs, err := os.ReadDir(filepath.Join(ts.out, results.FiguresDir))
	must(t, err)
	check(t, len(figs) > 0, "no figures")
	equal(t, "emulator", d.Manifest.Command)
	equal(t, "testapp", d.Manifest.Workload)
	equal(t, "SYNC-ROOT-128", d.Manifest.Setups[1].Route)
	var info RunInfo
	must(t, json.Unmarshal(d.Manifest.Extra[ExtraKey], &info))
	equal(t, map[string]int{"local": 3, "remote": 1}, info.RootInvocations)
	equal(t, "", info.TraceProblems)
	equal(t, float64(1000), info.TimeScale)
	// Nothing is left beside the output.
	entries, err := os.ReadDir(filepath.Dir(ts.out))
	must(t, err)
	equal(t, 1, len(entries))
}

// TestCloseFinishesAsyncWork checks that Close waits for the invocations of
// requests already answered (async ones) before writing the traces.
func TestCloseFinishesAsyncWork(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.TimeScale = 1 })
	for range 5 {
		// 202 at once; at scale 1 the sleeps would take real seconds. (The
		// default timeout is 60 s.)
		code, _, body := ts.post(t, "/SLOW-128", `{"ms": 50000}`)
		equal(t, 202, code, "%s", body)
	}
	start := time.Now()
	ts.close(t)
	check(t, time.Since(start) < 10*time.Second, "Close must fast-forward, not wait a modeled minute")
	recs, err := trace.ReadTraceFile(filepath.Join(ts.out, results.TracesDir, "remote.json"))
	must(t, err)
	equal(t, 5, rootCount(recs))
	for _, r := range recs {
		check(t, r.InternalDuration >= 50000, r.InternalDuration)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	app := testApp()
	good := fusionsim.Configs{"remote": remoteSetup(app, "remote")}
	bad := remoteSetup(app, "bad")
	bad.Rules["GHOST"] = map[string]fusionsim.RulePair{}
	nonEmpty := t.TempDir()
	must(t, os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644))
	for _, c := range []struct {
		cfg     Config
		mention string
	}{
		{Config{App: app}, "Setups"},
		{Config{App: app, Setups: good, Setup: "other"}, `"other" is not a setup`},
		{Config{App: app, Setups: fusionsim.Configs{"bad": bad}}, "GHOST"},
		{Config{App: app, Setups: good, TimeScale: -1}, "TimeScale"},
		{Config{App: app, Setups: good, Out: nonEmpty}, "has no readable manifest.json"},
		{Config{App: app, Setups: good, TimeScale: 1e12}, "outside 0.001..10000"},
	} {
		_, err := New(c.cfg)
		check(t, err != nil, c.mention)
		contains(t, err.Error(), c.mention)
	}
}

func configsJSON(t *testing.T, c fusionsim.Configs) []byte {
	t.Helper()
	b, err := c.Marshal()
	must(t, err)
	return b
}

func rootCount(recs []trace.Record) int {
	n := 0
	for _, r := range recs {
		if r.IsRootInvocation {
			n++
		}
	}
	return n
}

func jsonEq(t *testing.T, want, got string, context ...any) {
	t.Helper()
	var w, g any
	must(t, json.Unmarshal([]byte(want), &w), "want")
	must(t, json.Unmarshal([]byte(got), &g), "got %s", got)
	equal(t, w, g, context...)
}
