package lambdaapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/emulator"
	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/workloads"
)

// callerApp: A calls B synchronously; B sleeps {"ms"} modeled ms.
func callerApp() *fusionsim.App {
	return &fusionsim.App{
		Name: "caller", Entry: "A",
		Tasks: map[string]fusionsim.Task{
			"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				return ctx.Call("B", in, true)
			},
			"B": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
				ctx.Sleep(time.Duration(in.Int("ms", 10)) * time.Millisecond)
				return fusionsim.Event{}, nil
			},
		},
		Edges: []fusionsim.Edge{{Caller: "A", Called: "B", Sync: true}},
	}
}

// Issue 15: responses/ holds the status each client was sent: 502 for a
// sync request throttled downstream (it was recorded as 429), 200 for a
// function error through the Invoke API (the client gets 200 and
// X-Amz-Function-Error), 502 through a gateway route.
func TestResponsesRecordWhatTheClientGot(t *testing.T) {
	app := callerApp()
	ts := newTestServer(t, func(c *Config) {
		c.App = app
		c.Setups = fusionsim.Configs{"remote": remoteSetup(app, "remote")}
		c.ReservedConcurrency = map[string]int{"B-128": 1}
		c.TimeScale = 100
	})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 30 modeled seconds in B, 300 ms of wall time: the second
			// request's call to B comes while the first runs.
			codes[i], _, _ = ts.post(t, "/SYNC-A-128", `{"ms": 30000}`)
		}()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	equal(t, []int{200, 502}, codes, "the second call to B is throttled: A fails")
	ts.close(t)
	d, err := results.Read(ts.out, results.ReadOptions{})
	must(t, err)
	var got []int
	for _, r := range d.Responses["remote"] {
		got = append(got, r.StatusCode)
	}
	equal(t, []int{200, 502}, got, "responses/remote.csv")
	contains(t, d.Responses["remote"][1].Err, "TooManyRequestsException")

	// The Invoke API answers a function error with 200.
	ts2 := newTestServer(t, nil)
	out, err := ts2.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("FAIL-128"), Payload: []byte(`{}`)})
	must(t, err)
	equal(t, int32(200), out.StatusCode)
	code, _, _ := ts2.post(t, "/SYNC-FAIL-128", `{}`)
	equal(t, 502, code)
	ts2.close(t)
	d, err = results.Read(ts2.out, results.ReadOptions{})
	must(t, err)
	got = nil
	for _, r := range d.Responses["remote"] {
		got = append(got, r.StatusCode)
		contains(t, r.Err, "boom")
	}
	equal(t, []int{200, 502}, got, "responses/remote.csv")
}

// A client that goes away before its answer is recorded as such.
func TestResponsesRecordAClientThatLeft(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.TimeScale = 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.http.URL+"/SYNC-SLOW-128", strings.NewReader(`{"ms": 20000}`))
	_, err := http.DefaultClient.Do(req)
	check(t, errors.Is(err, context.DeadlineExceeded), err)
	ts.close(t)
	d, err := results.Read(ts.out, results.ReadOptions{})
	must(t, err)
	equal(t, 1, len(d.Responses["remote"]))
	r := d.Responses["remote"][0]
	equal(t, 0, r.StatusCode)
	contains(t, r.Err, "the client closed the connection first")
	equal(t, 1, d.Rows[0].Errors)
}

// Issue 15: under redeploys, requests were counted under one setup and
// traced under another (2,136 vs 2,471). Twenty redeploys under load:
// every request belongs to the setup deployed when the emulator took it,
// and responses, traces and stats agree per setup.
func TestRedeployUnderLoadKeepsTheAccount(t *testing.T) {
	app := testApp()
	ts := newTestServer(t, func(c *Config) { c.TimeScale = 200 })
	var sent, answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/SYNC-ROOT-128"
			if i%4 == 3 {
				path = "/ROOT-128" // async
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Post(ts.http.URL+path, "application/json", strings.NewReader(`{"n": 1}`))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 202 {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
				answered.Add(1)
			}
		}()
	}
	var names []string
	for i := range 20 {
		time.Sleep(15 * time.Millisecond)
		name := fmt.Sprintf("s%02d", i+1)
		setup := remoteSetup(app, name)
		if i%2 == 1 {
			setup = localSetup(app, name)
		}
		code, _, body := ts.do(t, http.MethodPut, "/emulator/setup", bytes.NewReader(configsJSON(t, fusionsim.Configs{name: setup})))
		equal(t, 200, code, "%s", body)
		names = append(names, name)
	}
	time.Sleep(15 * time.Millisecond)
	close(stop)
	wg.Wait()
	st, err := ts.Stats(context.Background())
	must(t, err)
	total := 0
	for _, n := range st.Requests {
		total += n
	}
	equal(t, int(answered.Load()), total, "requests in the stats")
	ts.close(t)

	d, err := results.Read(ts.out, results.ReadOptions{})
	must(t, err)
	var info RunInfo
	must(t, json.Unmarshal(d.Manifest.Extra[ExtraKey], &info))
	equal(t, append([]string{"remote"}, names...), d.Names)
	busy := 0
	for _, name := range d.Names {
		recs := d.Traces[name]
		n := len(d.Responses[name])
		equal(t, n, rootCount(recs), "setup %s: responses and root records", name)
		equal(t, n, info.RootInvocations[name], "setup %s: responses and the platform's roots", name)
		equal(t, n, info.Requests[name], "setup %s: responses and the requests counted", name)
		local := name != "remote" && d.Configs[name].Rules["ROOT"]["CHILD"].Sync.IsLocal()
		for _, r := range recs {
			check(t, strings.HasPrefix(r.TraceID, name+"-"), "setup %s: record of trace %s", name, r.TraceID)
			check(t, !local || r.CurrentFunction == "ROOT", "setup %s is local but %s ran as a function", name, r.CurrentFunction)
		}
		if local {
			equal(t, n, len(recs), "setup %s: one invocation a request", name)
		} else {
			equal(t, 3*n, len(recs), "setup %s: ROOT, CHILD, CHILD2 a request", name)
		}
		if n > 0 {
			busy++
		}
	}
	equal(t, int(answered.Load()), len(d.Responses["remote"])+func() int {
		s := 0
		for _, n := range names {
			s += len(d.Responses[n])
		}
		return s
	}(), "every request answered is in responses/")
	check(t, busy >= 10, "only %d of 21 setups served requests", busy)
	t.Logf("%d requests over %d setups", answered.Load(), busy)
}

// Issue 15: /SYNC-I-256 was served though no deployed setup has it. Only
// the deployed setup's functions answer; the others are 404, as on Lambda.
func TestOnlyTheDeployedFunctionsAnswer(t *testing.T) {
	ts := newTestServer(t, nil)
	code, h, body := ts.post(t, "/SYNC-ROOT-256", `{}`)
	m := requireServiceError(t, code, h, body, 404, ErrResourceNotFound)
	contains(t, m["Message"], "the deployed setup remote has no function ROOT-256")
	code, h, body = ts.post(t, "/ECHO-1024", `{}`) // async
	requireServiceError(t, code, h, body, 404, ErrResourceNotFound)
	for _, typ := range []types.InvocationType{types.InvocationTypeRequestResponse, types.InvocationTypeEvent, types.InvocationTypeDryRun} {
		_, err := ts.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("ROOT-256"), InvocationType: typ})
		var rnf *types.ResourceNotFoundException
		check(t, errors.As(err, &rnf), "%s: %v", typ, err)
	}
	_, err := ts.client.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("ROOT-256")})
	var rnf *types.ResourceNotFoundException
	check(t, errors.As(err, &rnf), err)
	// Under the local setup only ROOT-128 is deployed.
	code, _, body = ts.do(t, http.MethodPut, "/emulator/setup", bytes.NewReader(configsJSON(t, fusionsim.Configs{"local": localSetup(testApp(), "local")})))
	equal(t, 200, code, "%s", body)
	code, h, body = ts.post(t, "/SYNC-ECHO-128", `{}`)
	requireServiceError(t, code, h, body, 404, ErrResourceNotFound)
	code, _, _ = ts.post(t, "/SYNC-ROOT-128", `{}`)
	equal(t, 200, code)
	st, err := ts.Stats(context.Background())
	must(t, err)
	equal(t, map[string]int{"local": 1}, st.Requests, "refused requests are not handed to the emulator")
}

// Issue 15: ?name=nope was ignored; an unknown name is 404.
func TestUnknownSetupNameIs404(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/emulator/setup?name=nope", ""},
		{http.MethodGet, "/emulator/setups?name=nope", ""},
		{http.MethodGet, "/emulator/setup?name=", ""},
		{http.MethodPut, "/emulator/setup?name=nope", string(configsJSON(t, fusionsim.Configs{"local": localSetup(testApp(), "local")}))},
	} {
		code, h, body := ts.do(t, c.method, c.path, strings.NewReader(c.body))
		m := requireServiceError(t, code, h, body, 404, ErrResourceNotFound)
		contains(t, m["Message"], "name: ", c.path)
	}
	code, _, body := ts.do(t, http.MethodGet, "/emulator/setups?name=remote", nil)
	equal(t, 200, code)
	c, err := fusionsim.ParseConfigs(body)
	must(t, err)
	equal(t, []string{"remote"}, c.Names())
}

// Issue 15: a setup named 007 was accepted by PUT /emulator/setup but could
// not be written: GET /emulator/setups answered 500 from then on and the
// results were lost on shutdown. 007 stays the string "007"; names that
// break the rule are refused at once.
func TestSetupNamesOverHTTP(t *testing.T) {
	ts := newTestServer(t, nil)
	app := testApp()
	code, _, body := ts.do(t, http.MethodPut, "/emulator/setup", bytes.NewReader(configsJSON(t, fusionsim.Configs{"007": localSetup(app, "007")})))
	equal(t, 200, code, "%s", body)
	code, _, _ = ts.post(t, "/SYNC-ROOT-128", `{}`)
	equal(t, 200, code)
	for _, path := range []string{"/emulator/setup", "/emulator/setups"} {
		code, _, body = ts.do(t, http.MethodGet, path, nil)
		equal(t, 200, code, "%s: %s", path, body)
		contains(t, string(body), `"traceName":"007"`)
	}
	for _, bad := range []string{`{"../../etc":{"rules":{}}}`, `{"a-b":{"rules":{}}}`, `{"x":{"rules":{},"traceName":"y"}}`} {
		code, h, body := ts.do(t, http.MethodPut, "/emulator/setup", strings.NewReader(bad))
		requireServiceError(t, code, h, body, 400, ErrInvalidRequestContent)
	}
	ts.close(t)
	d, err := results.Read(ts.out, results.ReadOptions{})
	must(t, err)
	equal(t, []string{"remote", "007"}, d.Names)
	equal(t, 1, rootCount(d.Traces["007"]))
	equal(t, fusionsim.TraceName{Name: "007"}, d.Configs["007"].TraceName)
	equal(t, fusionsim.TraceName{Name: "007"}, d.Traces["007"][0].FusionGroup)
}

// Issue 15: GET /emulator/traces re-extracted every line on each call.
// Each call reads only the lines written since the last one.
func TestLiveTracesAreIncremental(t *testing.T) {
	ts := newTestServer(t, nil)
	lines := func() int {
		files, err := ts.logSnapshot(context.Background())
		must(t, err)
		n := 0
		for _, f := range files {
			n += f.Lines
		}
		return n
	}
	for round := range 3 {
		for range 5 {
			code, _, _ := ts.post(t, "/SYNC-ROOT-128", `{}`)
			equal(t, 200, code)
		}
		// Wait for CHILD2 (async) to finish.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			st, err := ts.Stats(context.Background())
			must(t, err)
			if st.OpenRequests == 0 {
				break
			}
		}
		for range 3 {
			code, _, body := ts.do(t, http.MethodGet, "/emulator/traces", nil)
			equal(t, 200, code)
			var list struct {
				Setups     []traceSummary `json:"setups"`
				Lines      int            `json:"lines"`
				Incomplete int            `json:"incomplete"`
			}
			must(t, json.Unmarshal(body, &list))
			equal(t, 5*(round+1), list.Setups[0].RootInvocations, "round %d", round)
			equal(t, 15*(round+1), list.Setups[0].Records)
			equal(t, 0, list.Incomplete)
			n := lines()
			equal(t, n, list.Lines)
			ts.live.mu.Lock()
			parsed := ts.live.parsed
			ts.live.mu.Unlock()
			equal(t, n, parsed, "lines parsed in all after round %d: each line once", round)
		}
		code, _, body := ts.do(t, http.MethodGet, "/emulator/traces/remote", nil)
		equal(t, 200, code)
		check(t, bytes.Count(body, []byte(`"traceId"`)) == 15*(round+1), "records")
	}
}

// Issue 15: a client that trickles its body held its connection forever.
func TestSlowBodyTimesOut(t *testing.T) {
	ts := newServing(t, func(c *Config) {
		c.BodyTimeout = 300 * time.Millisecond
		c.TimeScale = 100
	})
	conn, err := net.Dial("tcp", ts.addr)
	must(t, err)
	defer conn.Close()
	fmt.Fprintf(conn, "POST /SYNC-ECHO-128 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	must(t, err, "no answer to a trickling client")
	resp.Body.Close()
	equal(t, http.StatusRequestTimeout, resp.StatusCode)
	equal(t, ErrRequestTimeout, resp.Header.Get("X-Amzn-ErrorType"))
	check(t, time.Since(start) < 3*time.Second, "answered after %v", time.Since(start))
	// A request that takes longer than the body timeout to answer is fine.
	start = time.Now()
	code, body := ts.post(t, "/SYNC-SLOW-128", `{"ms": 50000}`) // 500 ms of wall time at scale 100
	check(t, time.Since(start) > 300*time.Millisecond, "the sleep took %v", time.Since(start))
	equal(t, 200, code, "%s", body)
}

// Issue 15: 900 trickling clients were accepted at once. Serve holds at
// most MaxConnections connections.
func TestConnectionCap(t *testing.T) {
	ts := newServing(t, func(c *Config) { c.MaxConnections = 2 })
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ts.addr)
		must(t, err)
		defer c.Close()
		conns = append(conns, c)
	}
	// The first two hold their slots (an unfinished request each); the third
	// is not served until one of them closes.
	for _, c := range conns {
		fmt.Fprintf(c, "POST /SYNC-ECHO-128 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
	}
	time.Sleep(50 * time.Millisecond)
	third := make(chan int, 1)
	go func() {
		code, _ := ts.post(t, "/SYNC-ECHO-128", `{}`)
		third <- code
	}()
	select {
	case code := <-third:
		t.Fatalf("a third connection was served (%d) while two were open", code)
	case <-time.After(300 * time.Millisecond):
	}
	conns[0].Close()
	select {
	case code := <-third:
		equal(t, 200, code)
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not served after one closed")
	}
}

// servingServer is a Server behind Serve on a real listener.
type servingServer struct {
	addr string
}

func newServing(t *testing.T, edit func(*Config)) *servingServer {
	t.Helper()
	app := testApp()
	cfg := Config{App: app, Setups: fusionsim.Configs{"remote": remoteSetup(app, "remote")}, Seed: 1, TimeScale: 1000, Log: testWriter{t}}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, time.Second) }()
	t.Cleanup(func() {
		cancel()
		must(t, <-done)
	})
	return &servingServer{addr: ln.Addr().String()}
}

func (s *servingServer) post(t *testing.T, path, body string) (int, string) {
	resp, err := http.Post("http://"+s.addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Issue 15: --time-scale 1e12 was accepted and every request hung. The
// scale is bounded so that a day of wall time stays within the virtual
// clock, and the driver stops with an error rather than overflow.
func TestTimeScaleIsBounded(t *testing.T) {
	em := newTestEmulator(t)
	for _, bad := range []float64{1e12, 1e5, 1e-4, 0, -1} {
		_, err := NewDriver(em, bad, nil)
		check(t, err != nil, "scale %v accepted", bad)
	}
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	d, err := NewDriver(em, MaxTimeScale, clock.Now)
	must(t, err)
	v0 := em.Now()
	d.Start()
	clock.add(24 * time.Hour)
	v := d.VirtualNow()
	equal(t, v0.Add(24*time.Hour*MaxTimeScale), v, "a day of wall time at the largest scale")
	must(t, d.Do(context.Background(), func(*emulator.Emulator) {}))
	// Far beyond (ten years of wall time): the driver stops with an error.
	clock.add(10 * 365 * 24 * time.Hour)
	err = d.Do(context.Background(), func(*emulator.Emulator) {})
	check(t, errors.Is(err, ErrStopped) && errors.Is(d.Stop(), ErrClockRange), "%v", err)
	// Long waits are clamped, not overflowed.
	check(t, d.wallUntil(v0.Add(200*365*24*time.Hour), v0) == maxWait)
}

// An application with two entry tasks deploys a function for each, also
// when every call is local (the webshop's frontend and addcartitem).
func TestEveryEntryIsDeployed(t *testing.T) {
	noop := func(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) { return nil, nil }
	app := &fusionsim.App{Name: "shop", Entry: "F", Entries: []string{"F", "A"},
		Tasks: map[string]fusionsim.Task{"F": noop, "A": noop, "S": noop},
		Edges: []fusionsim.Edge{{Caller: "F", Called: "S", Sync: true}, {Caller: "A", Called: "S", Sync: false}}}
	s, err := workloads.Local(app, "l")
	if err != nil {
		t.Fatal(err)
	}
	got := setupFunctions(app, s)
	want := map[fusionsim.FunctionID]bool{{Task: "F", MemoryMB: 128}: true, {Task: "A", MemoryMB: 128}: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions of the local setup: %v, want %v", got, want)
	}
}
