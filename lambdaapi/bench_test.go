package lambdaapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// benchClients is the number of concurrent clients of the throughput
// benchmark.
const benchClients = 50

// BenchmarkHTTPThroughput measures what the HTTP front and the real-time
// driver cost: a trivial task (ECHO) on a profile where every modeled
// latency is zero, so each request's wall latency is all overhead. 50
// clients send sync requests over loopback with keep-alive; it reports
// requests/s and the p50 and p99 latency the emulator added.
//
// The "nethttp" case is the baseline: a bare net/http handler that decodes
// the body and answers it as JSON, on the same machine and client, so that
// the difference is what the emulator adds.
func BenchmarkHTTPThroughput(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"gateway", "/SYNC-ECHO-128"},
		{"invoke", "/2015-03-31/functions/fusion-function-ECHO-128/invocations"},
		{"nethttp", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.path == "" {
				srv := httptest.NewServer(http.HandlerFunc(echoHandler))
				defer srv.Close()
				benchThroughput(b, srv.URL+"/")
				return
			}
			app := testApp()
			s, err := New(Config{App: app, Setups: fusionsim.Configs{"remote": remoteSetup(app, "remote")}, Profile: zeroProfile(), Seed: 1})
			must(b, err)
			srv := httptest.NewServer(s.Handler())
			defer func() {
				srv.Close()
				must(b, s.Close(context.Background()))
			}()
			benchThroughput(b, srv.URL+c.path)
		})
	}
}

// echoHandler answers {"echo": <body>} as the ECHO task does.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"echo": ev})
}

func benchThroughput(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxIdleConns: benchClients}}
	const body = `{"sensor": 7, "reading": 21.5}`

	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
