package emulator

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// twoFunctionApp: A stores an item, calls B sync and B async in parallel and
// waits for both; B burns 20 vCPU-ms on two threads and sleeps 30 ms.
func twoFunctionApp() *fusionsim.App {
	return newApp("A", taskMap{
		"A": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			if err := ctx.Put("T", fusionsim.Item{Key: int64(ctx.Rand().IntN(100)), Message: "m"}); err != nil {
				return nil, err
			}
			ctx.Log("A got " + in.String("tag"))
			sync := ctx.Start("B", fusionsim.Event{"n": 1}, true)
			async := ctx.Start("B", fusionsim.Event{"n": 2}, false)
			res, err := sync.Wait()
			if _, err := async.Wait(); err != nil {
				return nil, err
			}
			return res, err
		},
		"B": func(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
			ctx.Spend(fusionsim.Work{Name: "burn", CPUMs: 20, Threads: 2})
			ctx.Sleep(30 * time.Millisecond)
			return fusionsim.Event{"n": in.Int("n", 0)}, nil
		},
	})
}

// randomProfile is testProfile with random latencies, so that the seed matters.
func randomProfile() model.Profile {
	p := testProfile()
	p.ColdStart.RuntimeInitMs["test"] = model.LogNormal(0, 150, 0.2)
	p.Remote.SyncRequest.LatencyMs = model.LogNormal(5, 10, 0.3)
	p.Remote.AsyncAck.LatencyMs = model.LogNormal(5, 20, 0.3)
	p.Storage.Put.LatencyMs = model.LogNormal(0, 8, 0.3)
	p.Remote.ClientRequest.LatencyMs = model.LogNormal(0, 15, 0.2)
	return p
}

// logBytes runs app under setup with the seed and returns every log line,
// function by function, as "<function>\t<line>\n".
func logBytes(t *testing.T, app *fusionsim.App, setup *fusionsim.Setup, seed uint64, route string, arrivals []fusionsim.Arrival) []byte {
	t.Helper()
	sink := NewMemorySink()
	em, err := New(Config{App: app, Profile: randomProfile(), Seed: seed, Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	if err := em.Deploy(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	if _, err := em.Run(context.Background(), fusionsim.MustParseRoute(route), arrivals); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sink.ReadLines(time.Time{}, em.Now().Add(time.Hour), func(l fusionsim.LogLine) error {
		buf.WriteString(l.Function + "\t" + l.Text + "\n")
		return nil
	})
	return buf.Bytes()
}

// The full log of a small two-function scenario (cold, concurrent and warm
// requests; sync and async remote calls; storage; CPU on two threads) is
// checked in. Regenerate with go test ./emulator -run Golden -update and
// review the diff.
func TestGoldenTwoFunctions(t *testing.T) {
	app := twoFunctionApp()
	arrivals := []fusionsim.Arrival{{Event: fusionsim.Event{"tag": "x"}}, {}, {At: 2 * time.Second}}
	got := logBytes(t, app, setupOf(app, "golden"), 7, "SYNC-A-256", arrivals)
	path := filepath.Join("testdata", "two-functions.log")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("log differs from %s (run with -update and review the diff):\n%s", path, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return "got:  " + string(la[i]) + "\nwant: " + string(lb[i])
		}
	}
	return "lengths differ"
}

func TestDeterminism(t *testing.T) {
	app := twoFunctionApp()
	var arrivals []fusionsim.Arrival
	for i := 0; i < 200; i++ {
		arrivals = append(arrivals, fusionsim.Arrival{At: time.Duration(i) * 37 * time.Millisecond})
	}
	setup := setupOf(app, "det")
	a := logBytes(t, app, setup, 1, "SYNC-A-128", arrivals)
	b := logBytes(t, app, setup, 1, "SYNC-A-128", arrivals)
	c := logBytes(t, app, setup, 2, "SYNC-A-128", arrivals)
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed, different logs:\n%s", firstDiff(a, b))
	}
	if bytes.Equal(a, c) {
		t.Fatalf("different seeds, identical logs")
	}
	if n := bytes.Count(a, []byte("REPORT")); n != 600 {
		t.Fatalf("%d REPORT lines, want 600 (3 invocations per request)", n)
	}
}
