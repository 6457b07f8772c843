package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim/trace"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// TestGracefulShutdown starts the command, sends a sync IoT request and
// cancels the context (what SIGINT does) while the request is in flight: the
// request must still be answered, and the results directory written with
// its trace.
func TestGracefulShutdown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		// Scale 10: the first IoT request (cold starts, about 2.7 modeled
		// seconds) takes about 270 ms.
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--time-scale", "10", "--out", out}, io.Discard, &stderr)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("the emulator did not start; stderr:\n%s", stderr.String())
	}
	type result struct {
		status int
		body   string
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/SYNC-I-128", "application/json", strings.NewReader(`{}`))
		if err != nil {
			resc <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resc <- result{resp.StatusCode, string(b), err}
	}()
	time.Sleep(50 * time.Millisecond) // the request is in flight
	cancel()
	r := <-resc
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"sensorId"`) {
		t.Fatalf("in-flight request: status %d, body %q, error %v; stderr:\n%s", r.status, r.body, r.err, stderr.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v; stderr:\n%s", err, stderr.String())
	}
	recs, err := trace.ReadTraceFile(filepath.Join(out, "traces", "remote.json"))
	if err != nil {
		t.Fatal(err)
	}
	roots := 0
	for _, r := range recs {
		if r.IsRootInvocation {
			roots++
		}
	}
	if roots != 1 || len(recs) != 11 {
		t.Errorf("trace: %d records, %d roots; want 11 and 1", len(recs), roots)
	}
	if _, err := http.Get(url + "/emulator/stats"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	notEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(notEmpty, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"--time-scale", "0"}, "--time-scale: 0"},
		{[]string{"--time-scale", "-3"}, "--time-scale: -3"},
		{[]string{"--workload", "nope"}, `--workload: unknown workload "nope"`},
		{[]string{"--setup", "/no/such/file.json"}, "--setup: open /no/such/file.json"},
		{[]string{"--setup-name", "x"}, "--setup-name \"x\" needs --setup"},
		{[]string{"--setup", "../../workloads/testdata/split-coldStarts-configurationMetadata.json.gz", "--setup-name", "zzz"}, `--setup-name: "zzz" is not a setup`},
		{[]string{"--setup", "../../workloads/testdata/split-coldStarts-configurationMetadata.json.gz"}, `names task(s) that iot does not have: A, B, C, D, E, F, G`},
		{[]string{"--reserved-concurrency", "I-128"}, `--reserved-concurrency: "I-128" is not FUNCTION=N`},
		{[]string{"--reserved-concurrency", "I-128=0"}, "--reserved-concurrency: I-128=0"},
		{[]string{"--listen", "256.1.1.1:99999"}, "--listen:"},
		{[]string{"--listen", "127.0.0.1:0", "--out", notEmpty}, "--out: "},
		{[]string{"--profile", "/no/profile.json"}, "--profile: open /no/profile.json"},
		{[]string{"--aws-apis", "--time-scale", "100"}, "--aws-apis needs --time-scale 1 (got 100)"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--workload", "split", "--app", "x.yaml"}, `--workload "split" and --app "x.yaml": give one of them`},
		{[]string{"--app", "/no/app.yaml"}, "--app /no/app.yaml: open /no/app.yaml"},
	} {
		err := Run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%v: error %v, want one mentioning %q", c.args, err, c.mention)
		}
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var stderr bytes.Buffer
	err := Run(context.Background(), []string{"--help"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, f := range []string{"listen", "workload", "app", "setup", "setup-name", "profile", "seed", "time-scale", "out", "force", "reserved-concurrency", "shutdown-timeout", "max-connections", "body-timeout"} {
		if !strings.Contains(stderr.String(), "-"+f+" ") && !strings.Contains(stderr.String(), "-"+f+"\n") {
			t.Errorf("--help does not explain --%s:\n%s", f, stderr.String())
		}
	}
}

// TestServesAnApplicationFile: --app serves a file's application, with a
// function for each of its entry tasks (the webshop-like test file's
// frontend and addcartitem), and the stored cart carries over from one
// request to the next.
func TestServesAnApplicationFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--app", "../../appfile/testdata/minishop.yaml", "--listen", "127.0.0.1:0", "--time-scale", "1000", "--out", ""}, io.Discard, &stderr)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("the emulator did not start; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "serving minishop (entries frontend, addcartitem, setup remote)") {
		t.Errorf("stderr: %s", stderr.String())
	}
	post := func(route, body string) string {
		t.Helper()
		resp, err := http.Post(url+"/"+route, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", route, body, resp.StatusCode, b)
		}
		return string(b)
	}
	post("SYNC-addcartitem-128", `{"userId": 5, "itemId": 2}`)
	// The add is async: the cart function may still run; poll.
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = post("SYNC-frontend-128", `{"operation": "get", "userId": 5}`); strings.Contains(got, `"cart":1`) {
			break
		}
	}
	if !strings.Contains(got, `"cart":1`) || !strings.Contains(got, `"products":11`) {
		t.Errorf("get after the add: %s", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
