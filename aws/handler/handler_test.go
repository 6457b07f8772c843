package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/trace"
)

// fakeInvoker answers Invoke calls: results by function name, and records
// the envelopes.
type fakeInvoker struct {
	mu      sync.Mutex
	calls   []string
	results map[string]func(sync bool) (*lambdasvc.InvokeOutput, error)
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambdasvc.InvokeInput, _ ...func(*lambdasvc.Options)) (*lambdasvc.InvokeOutput, error) {
	var env Envelope
	if err := json.Unmarshal(in.Payload, &env); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, *in.FunctionName+" "+string(in.InvocationType))
	r := f.results[*in.FunctionName]
	f.mu.Unlock()
	if r == nil {
		return &lambdasvc.InvokeOutput{StatusCode: 200, Payload: []byte(`{"ok":true}`)}, nil
	}
	return r(in.InvocationType == types.InvocationTypeRequestResponse)
}

// noStore fails every storage call.
type noStore struct{}

var errNoStore = errors.New("no store in this test")

func (noStore) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errNoStore
}
func (noStore) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errNoStore
}
func (noStore) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errNoStore
}
func (noStore) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errNoStore
}

// testApp: A calls B (local sync), C (local async), R (remote sync);
// B panics on request; C fails on request; D recurses to itself.
func testApp() *fusionsim.App {
	return &fusionsim.App{
		Name: "t", Entry: "A",
		Tasks: map[string]fusionsim.Task{
			"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				c := ctx.Start("C", in, false)
				if _, err := ctx.Call("B", in, true); err != nil {
					return nil, err
				}
				r, err := ctx.Call("R", in, true)
				if err != nil {
					return nil, err
				}
				ctx.Spend(fusionsim.Work{Name: "spin", CPUMs: 2, Threads: 2, TailCPUMs: 1})
				ctx.Sleep(time.Millisecond)
				ctx.Log("A done")
				_ = c
				return fusionsim.Event{"r": r["ok"]}, nil
			},
			"B": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				if in["panic"] != nil {
					panic("B was asked to")
				}
				return fusionsim.Event{}, nil
			},
			"C": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				if in["failC"] != nil {
					return nil, errors.New("C failed")
				}
				return nil, nil
			},
			"R": func(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) { return nil, nil },
			"D": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				return ctx.Call("D", in, true)
			},
		},
	}
}

func rules() map[string]fusionsim.RulePair {
	local := fusionsim.Rule{Strategy: fusionsim.Local}
	return map[string]fusionsim.RulePair{
		"B": {Sync: local, Async: local},
		"C": {Sync: local, Async: local},
		"D": {Sync: local, Async: local},
		"R": {Sync: fusionsim.Rule{Strategy: fusionsim.Remote, URL: "SYNC-R-256"}, Async: fusionsim.Rule{Strategy: fusionsim.Remote, URL: "R-256"}},
	}
}

func newTestHandler(t *testing.T, entry string, inv Invoker, out *bytes.Buffer) *Handler {
	t.Helper()
	h, err := New(Config{App: testApp(), Entry: entry, MemoryMB: 512, Setup: "s1", Rules: rules(), Prefix: "p-", MaxCallDepth: 4},
		inv, noStore{}, out, time.Now(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func invoke(h *Handler, id string, payload string) ([]byte, error) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
	return h.Invoke(ctx, []byte(payload))
}

func TestHandlerInProcess(t *testing.T) {
	inv := &fakeInvoker{results: map[string]func(bool) (*lambdasvc.InvokeOutput, error){}}
	var out bytes.Buffer
	h := newTestHandler(t, "A", inv, &out)

	res, err := invoke(h, "req-1", `{}`)
	if err != nil || string(res) != `{"r":true}` {
		t.Fatalf("invocation 1: %s, %v", res, err)
	}
	if len(inv.calls) != 1 || inv.calls[0] != "p-fusion-function-R-256 RequestResponse" {
		t.Errorf("remote calls %v", inv.calls)
	}
	if !strings.Contains(out.String(), "\treq-1\tINFO\tA done\n") {
		t.Errorf("the task's own line is missing:\n%s", out.String())
	}

	// A local panic, a local async failure and a remote function error
	// become the invocation's error with the emulator's error types.
	for _, c := range []struct {
		payload, errType, msg string
		remote                func(bool) (*lambdasvc.InvokeOutput, error)
	}{
		{`{"panic":1}`, "Error", "task B panicked: B was asked to", nil},
		{`{"failC":1}`, "Error", "C failed", nil},
		{`{}`, "Runtime.OutOfMemory", "killed", func(bool) (*lambdasvc.InvokeOutput, error) {
			return &lambdasvc.InvokeOutput{StatusCode: 200, FunctionError: ptr("Unhandled"),
				Payload: []byte(`{"errorType":"Runtime.OutOfMemory","errorMessage":"killed"}`)}, nil
		}},
		{`{}`, "TooManyRequestsException", "Rate Exceeded", func(bool) (*lambdasvc.InvokeOutput, error) {
			return nil, &types.TooManyRequestsException{Message: ptr("Rate Exceeded")}
		}},
	} {
		inv.results["p-fusion-function-R-256"] = c.remote
		_, err := invoke(h, "req-x", c.payload)
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) || ie.Type != c.errType || !strings.Contains(ie.Message, c.msg) {
			t.Errorf("payload %s: error %#v, want type %s with %q", c.payload, err, c.errType, c.msg)
		}
	}

	// Call depth: D calls itself until the limit.
	hd := newTestHandler(t, "D", inv, &bytes.Buffer{})
	_, err = invoke(hd, "req-d", `{}`)
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Type != "CallDepthExceeded" {
		t.Errorf("recursion: %#v, want CallDepthExceeded", err)
	}
	// A malformed envelope is an error, with the handler's lines written.
	_, err = invoke(h, "req-bad", `{"fusion":{"traceId":""}}`)
	if err == nil {
		t.Error("an envelope without trace id was accepted")
	}

	// Every line parses; the first invocation is the only cold one.
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if _, err := trace.ParseLine(l); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if n := strings.Count(out.String(), `"isColdStart":true`); n != 1 {
		t.Errorf("%d cold inits in the handler's lines, want 1", n)
	}
}

func TestRulesEncoding(t *testing.T) {
	row := rules()
	s, err := EncodeRules(row)
	if err != nil || strings.HasPrefix(s, gzPrefix) {
		t.Fatalf("small row: %q, %v", s, err)
	}
	back, err := DecodeRules(s)
	if err != nil || len(back) != len(row) || back["R"].Sync.URL != "SYNC-R-256" {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	// A long row is compressed, and still round-trips.
	big := map[string]fusionsim.RulePair{}
	for i := 0; i < 60; i++ {
		name := "Task" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + string(rune('a'+i/26))
		big[name] = fusionsim.RulePair{
			Sync:  fusionsim.Rule{Strategy: fusionsim.Remote, URL: "SYNC-" + name + "-1024"},
			Async: fusionsim.Rule{Strategy: fusionsim.Remote, URL: name + "-1024"},
		}
	}
	s, err = EncodeRules(big)
	if err != nil || !strings.HasPrefix(s, gzPrefix) || len(s) > EnvLimitBytes {
		t.Fatalf("big row: %d bytes, %v", len(s), err)
	}
	back, err = DecodeRules(s)
	if err != nil || len(back) != len(big) {
		t.Fatalf("big round trip: %d rules, %v", len(back), err)
	}
	for _, bad := range []string{`[]`, `{"A":{"sync":{"strategy":"local"},"bogus":1}}`, "gz:!!!", "gz:" + "aGVsbG8="} {
		if _, err := DecodeRules(bad); err == nil {
			t.Errorf("DecodeRules(%q) accepted", bad)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	apps := func(name string) (*fusionsim.App, error) {
		if name == "t" {
			return testApp(), nil
		}
		return nil, errors.New("unknown")
	}
	rs, _ := EncodeRules(rules())
	base := map[string]string{EnvApp: "t", EnvEntry: "A", envMemory: "512", EnvSetup: "s1", EnvRules: rs, EnvPrefix: "p-"}
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	c, err := ConfigFromEnv(lookup(base), apps)
	if err != nil || c.Entry != "A" || c.MemoryMB != 512 || c.Setup != "s1" || c.Prefix != "p-" || len(c.Rules) != 4 {
		t.Fatalf("config %+v, %v", c, err)
	}
	for _, bad := range []struct{ key, value, want string }{
		{EnvApp, "", EnvApp},
		{EnvApp, "nope", EnvApp},
		{EnvEntry, "Z", EnvEntry},
		{envMemory, "lots", envMemory},
		{envMemory, "64", envMemory},
		{EnvRules, "{", EnvRules},
		{EnvSetup, "", EnvSetup},
		{EnvMaxCallDepth, "0", EnvMaxCallDepth},
		{EnvPrefix, "bad prefix!", EnvPrefix},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[bad.key] = bad.value
		if _, err := ConfigFromEnv(lookup(m), apps); err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s=%q: %v (want an error naming %s)", bad.key, bad.value, err, bad.want)
		}
	}

	// Without FUSION_RULES: configuration metadata in the package.
	dir := t.TempDir()
	meta := `{"s0":{"traceName":"s0","rules":{}},"s1":{"traceName":"s1","rules":{"A":{"B":{"sync":{"strategy":"local"},"async":{"strategy":"local"}}}}}}`
	if err := os.WriteFile(filepath.Join(dir, DefaultSetupFile), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{EnvApp: "t", EnvEntry: "A", envMemory: "128", envTaskRoot: dir}
	c, err = ConfigFromEnv(lookup(m), apps)
	if err != nil || c.Setup != "s1" || len(c.Rules) != 1 {
		t.Fatalf("setup file, latest setup: %+v, %v", c, err)
	}
	m[EnvSetup] = "s0"
	if c, err = ConfigFromEnv(lookup(m), apps); err != nil || c.Setup != "s0" || len(c.Rules) != 0 {
		t.Fatalf("setup file, setup s0: %+v, %v", c, err)
	}
	m[EnvSetup] = "s9"
	if _, err = ConfigFromEnv(lookup(m), apps); err == nil || !strings.Contains(err.Error(), "s9") {
		t.Errorf("missing setup: %v", err)
	}
}

func TestEnvironmentLimit(t *testing.T) {
	setup := &fusionsim.Setup{Rules: fusionsim.Rules{"A": rules()}, TraceName: fusionsim.NewTraceName("s1")}
	env, err := Environment("t", fusionsim.FunctionID{Task: "A", MemoryMB: 128}, setup, "p-", 8, "dep-1")
	if err != nil || env[EnvEntry] != "A" || env[EnvMaxCallDepth] != "8" || env[EnvDeployment] != "dep-1" {
		t.Fatalf("environment %v, %v", env, err)
	}
	if EnvSize(env) > EnvLimitBytes {
		t.Errorf("%d bytes", EnvSize(env))
	}
	// An entry without a row gets an empty one.
	env, err = Environment("t", fusionsim.FunctionID{Task: "B", MemoryMB: 128}, setup, "", 0, "d")
	if err != nil || env[EnvRules] != "{}" {
		t.Errorf("empty row: %v, %v", env, err)
	}
	if _, ok := env[EnvPrefix]; ok {
		t.Error("empty prefix written")
	}
	// The limit is enforced with a message naming the function.
	_, err = Environment(strings.Repeat("x", EnvLimitBytes), fusionsim.FunctionID{Task: "A", MemoryMB: 128}, setup, "", 0, "d")
	if err == nil || !strings.Contains(err.Error(), "fusion-function-A-128") {
		t.Errorf("over the limit: %v", err)
	}
}

func TestParsePayload(t *testing.T) {
	for _, c := range []struct {
		in      string
		call    bool
		wantErr bool
	}{
		{``, false, false}, {`null`, false, false}, {`{"a":1}`, false, false},
		{`{"fusion":{"traceId":"x-A-128-0","depth":2},"event":{"a":1}}`, true, false},
		{`{"fusion":{"traceId":"x","depth":2}}`, true, false},
		{`[1]`, false, true}, {`{"fusion":3}`, false, true},
	} {
		ev, call, err := ParsePayload([]byte(c.in))
		if (err != nil) != c.wantErr || (!c.wantErr && ((call != nil) != c.call || ev == nil)) {
			t.Errorf("ParsePayload(%s) = %v, %v, %v", c.in, ev, call, err)
		}
	}
}

// Go runs closures on goroutines; the invocation waits for the one the task
// did not wait for; a panic in a closure is its error.
func TestGoClosures(t *testing.T) {
	var late sync.WaitGroup
	late.Add(1)
	finished := false
	app := &fusionsim.App{Name: "g", Entry: "G", Tasks: map[string]fusionsim.Task{
		"G": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			f := ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
				c.Sleep(5 * time.Millisecond)
				return fusionsim.Event{"x": 1}, nil
			})
			ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
				defer late.Done()
				c.Sleep(30 * time.Millisecond)
				finished = true
				return nil, nil
			})
			boom := ctx.Go(func(fusionsim.Context) (fusionsim.Event, error) { panic("boom") })
			if _, err := boom.Wait(); err == nil || !strings.Contains(err.Error(), "boom") {
				return nil, errors.New("the closure's panic was not its error")
			}
			return f.Wait()
		},
	}}
	h, err := New(Config{App: app, Entry: "G", MemoryMB: 128, Setup: "s1", Rules: map[string]fusionsim.RulePair{}, MaxCallDepth: 4},
		&fakeInvoker{}, noStore{}, &bytes.Buffer{}, time.Now(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := invoke(h, "req-g", `{}`)
	if err != nil || string(res) != `{"x":1}` {
		t.Fatalf("result %s, %v", res, err)
	}
	if !finished {
		t.Error("the invocation ended before the closure nobody waited for")
	}
	late.Wait()
}
