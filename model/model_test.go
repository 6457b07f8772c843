package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCPUScaling(t *testing.T) {
	cpu := Default().CPU
	// 100 vCPU-ms of single-threaded work:
	//   128 MB:  share 128/1769 vCPU -> 100 * 1769/128 = 1382.03125 ms
	//   1769 MB: share 1 vCPU        -> 100 ms
	//   3538 MB: share 2 vCPU, but one thread uses at most one -> 100 ms
	// and of two-threaded work at 3538 MB: min(2 threads, 2 cores, 2 vCPU) -> 50 ms.
	cases := []struct {
		memoryMB, threads int
		want              time.Duration
	}{
		{128, 1, 1382031250 * time.Nanosecond},
		{1769, 1, 100 * time.Millisecond},
		{3538, 1, 100 * time.Millisecond},
		{3538, 2, 50 * time.Millisecond},
		{10240, 8, time.Duration(math.Ceil(100e6 / (10240.0 / 1769)))}, // 6 cores visible, share 5.79
	}
	for _, c := range cases {
		if got := cpu.Duration(100, c.memoryMB, c.threads); got != c.want {
			t.Errorf("Duration(100 vCPU-ms, %d MB, %d threads) = %v, want %v", c.memoryMB, c.threads, got, c.want)
		}
	}
	if got := cpu.Share(20000); got != 6 {
		t.Errorf("Share caps at MaxVCPU: got %v", got)
	}
	for mb, want := range map[int]int{128: 2, 3008: 2, 3009: 3, 5307: 3, 7076: 4, 8845: 5, 8846: 6, 10240: 6} {
		if got := cpu.Cores(mb); got != want {
			t.Errorf("Cores(%d) = %d, want %d", mb, got, want)
		}
	}
}

func TestBilling(t *testing.T) {
	p := Default().Pricing
	if got := p.BilledMs(48730*time.Microsecond, 0); got != 49 {
		t.Errorf("48.73 ms bills %d ms, want 49", got)
	}
	if got := p.BilledMs(49*time.Millisecond, 0); got != 49 {
		t.Errorf("49.00 ms bills %d ms, want 49 (no rounding up of whole ms)", got)
	}
	if got := p.BilledMs(1, 0); got != 1 {
		t.Errorf("1 ns bills %d ms, want 1 (no minimum beyond 1 ms)", got)
	}
	// INIT is not billed in the 2023 model, and is with BillInit.
	if got := p.BilledMs(10*time.Millisecond, 150350*time.Microsecond); got != 10 {
		t.Errorf("INIT billed with BillInit off: %d", got)
	}
	p.BillInit = true
	if got := p.BilledMs(10*time.Millisecond, 150350*time.Microsecond); got != 161 {
		t.Errorf("BillInit: got %d ms, want 161 (10 + 150.35 rounded up)", got)
	}
	p.BillInit = false
	// 1383 ms at 128 MB = 1383 * 128/1024 = 172.875 GB-ms;
	// x86 first tier 0.0000166667 $/GB-s -> 172.875/1000 * 0.0000166667 = 2.8812556...e-6 $,
	// plus 0.20 $ per million requests.
	if got := p.GBMs(1383, 128); got != 172.875 {
		t.Errorf("GBMs = %v, want 172.875", got)
	}
	wantUSD := 172.875/1000*0.0000166667 + 0.2e-6
	if got := p.InvocationUSD(1383, 128); math.Abs(got-wantUSD) > 1e-18 {
		t.Errorf("InvocationUSD = %v, want %v", got, wantUSD)
	}
	p.Architecture = Arm64
	if got, want := p.ComputeUSD(1000, 1024), 0.0000133334; math.Abs(got-want) > 1e-15 {
		t.Errorf("arm64 1 GB-s = %v, want %v", got, want)
	}
	p.Architecture = X86
	// Tiers: 7e9 GB-s = 6e9 at the first price + 1e9 at the second.
	if got, want := p.MonthlyComputeUSD(7e9), 6e9*0.0000166667+1e9*0.000015; math.Abs(got-want) > 1e-3 {
		t.Errorf("MonthlyComputeUSD(7e9) = %v, want %v", got, want)
	}
	p.GranularityMs = 100 // before December 2020
	if got := p.BilledMs(101*time.Millisecond, 0); got != 200 {
		t.Errorf("100 ms granularity: 101 ms bills %d, want 200", got)
	}
}

func TestDefaultProfileRoundTrip(t *testing.T) {
	p := Default()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("profile changed in a JSON round trip")
	}
}

// MemoryPressure is 1 with the free memory at or above the headroom, then
// grows by the slope per MB short of it; off when either figure is 0.
func TestMemoryPressure(t *testing.T) {
	c := CPU{MemoryPressureHeadroomMB: 30, MemoryPressureCPUPerMB: 0.02}
	for _, x := range []struct {
		memoryMB   int
		residentMB float64
		want       float64
	}{
		{128, 90, 1},        // 38 MB free
		{128, 98, 1},        // 30 MB free: at the headroom
		{128, 99, 1.02},     // 29 MB free: 1 MB short
		{128, 106, 1.16},    // 22 MB free: 8 MB short
		{128, 112, 1.28},    // 16 MB free: 14 MB short
		{128, 128, 1.6},     // full: 30 MB short
		{128, 140, 1.6},     // beyond the size (out of memory): capped
		{128, 0, 1},         // nothing held
		{1536, 1516, 1.2},   // the headroom is in MB, whatever the size
		{1536, 112, 1},      // what is short at 128 MB is not at 1536
		{10240, 10240, 1.6}, // full
	} {
		if got := c.MemoryPressure(x.memoryMB, x.residentMB); math.Abs(got-x.want) > 1e-9 {
			t.Errorf("MemoryPressure(%d MB, %v MB held) = %v, want %v", x.memoryMB, x.residentMB, got, x.want)
		}
	}
	for _, off := range []CPU{{}, {MemoryPressureHeadroomMB: 30}, {MemoryPressureCPUPerMB: 0.02}} {
		if got := off.MemoryPressure(128, 127); got != 1 {
			t.Errorf("%+v: MemoryPressure = %v, want 1 (off)", off, got)
		}
	}
}

func TestValidateNamesFieldAndValue(t *testing.T) {
	cases := []struct {
		mutate func(*Profile)
		want   string
	}{
		{func(p *Profile) { p.CPU.MBPerVCPU = 0 }, "cpu.mbPerVCPU: 0"},
		{func(p *Profile) { p.Pricing.Architecture = "sparc" }, `pricing.architecture: "sparc"`},
		{func(p *Profile) { p.Remote.SyncRequest.LatencyMs = LogNormal(0, 10, -1) }, "remote.syncRequest.latencyMs.sigma: -1"},
		{func(p *Profile) { p.Storage.Put.CPUMs = -2 }, "storage.put.cpuMs: -2"},
		{func(p *Profile) { p.Limits.AccountConcurrency = 0 }, "limits.accountConcurrency: 0"},
		{func(p *Profile) { p.ColdStart.Runtime = "cobol" }, `coldStart.runtime: "cobol"`},
		{func(p *Profile) { p.ColdStart.KeepAliveS = Dist{Kind: "gamma"} }, `coldStart.keepAliveS.kind: "gamma"`},
		{func(p *Profile) { p.Work = map[string]WorkParams{"burn": {Threads: 0}} }, `work["burn"].threads: 0`},
		{func(p *Profile) { p.CPU.MemoryPressureHeadroomMB = -1 }, "cpu.memoryPressureHeadroomMB: -1"},
		{func(p *Profile) { p.CPU.MemoryPressureCPUPerMB = math.Inf(1) }, "cpu.memoryPressureCPUPerMB: +Inf"},
	}
	for _, c := range cases {
		p := Default()
		c.mutate(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, c.want)
		}
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(DefaultJSON(), &m); err != nil {
		t.Fatal(err)
	}
	m["cpuu"] = 1
	b, _ := json.Marshal(m)
	if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), "cpuu") {
		t.Fatalf("Parse accepted an unknown field: %v", err)
	}
}

func TestDistSample(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	if v := Const(5).Sample(r); v != 5 {
		t.Errorf("const: %v", v)
	}
	if v := (Dist{}).Sample(r); v != 0 {
		t.Errorf("none: %v", v)
	}
	if v := (Dist{Kind: KindConst, Value: -3}).Sample(r); v != 0 {
		t.Errorf("negative samples clamp to 0: %v", v)
	}
	// Draws of a log-normal have the given median (checked on many samples).
	d := LogNormal(10, 100, 0.5)
	below := 0
	for i := 0; i < 20000; i++ {
		if d.Sample(r) < 110 {
			below++
		}
	}
	if below < 9700 || below > 10300 {
		t.Errorf("log-normal median: %d of 20000 below offset+median", below)
	}
	u := Dist{Kind: KindUniform, Min: 300, Max: 420}
	for i := 0; i < 1000; i++ {
		if v := u.Sample(r); v < 300 || v >= 420 {
			t.Fatalf("uniform sample %v outside [300, 420)", v)
		}
	}
	if e := u.Expected(); e != 360 {
		t.Errorf("uniform expected %v", e)
	}
}

func TestInitDurationDependsOnMemoryAndPackage(t *testing.T) {
	c := ColdStart{
		Runtime:            "x",
		RuntimeInitMs:      map[string]Dist{"x": Const(100)},
		PackageMB:          10,
		InitMsPerPackageMB: 5,
		InitCPUMs:          50,
		InitMinVCPU:        0.5,
	}
	cpu := Default().CPU
	r := rand.New(rand.NewPCG(1, 1))
	// 128 MB: share 0.072 < InitMinVCPU 0.5 -> 100 + 50 + 50/0.5 = 250 ms.
	if got := c.InitDuration(r, cpu, 128); got != 250*time.Millisecond {
		t.Errorf("128 MB init = %v, want 250ms", got)
	}
	// 1769 MB: one vCPU -> 100 + 50 + 50 = 200 ms.
	if got := c.InitDuration(r, cpu, 1769); got != 200*time.Millisecond {
		t.Errorf("1769 MB init = %v, want 200ms", got)
	}
}

// An overlay file replaces the base's work entries it names, keeps the
// others, and may name its base; a bad field is an error naming the file.
func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	base := Default()
	base.Name = "mybase"
	base.Limits.TimeoutS = 30
	b, err := base.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "base.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	o := Overlay{Overlay: OverlayKind, Name: "fit", Base: "base.json", Work: map[string]WorkParams{"burn2x7": {CPUMs: 300, Threads: 1}}}
	ob, err := o.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "overlay.json")
	os.WriteFile(path, ob, 0o644)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Work["burn2x7"].CPUMs != 300 || p.Work["burn2x7"].Threads != 1 || p.Limits.TimeoutS != 30 || p.Name != "fit" {
		t.Errorf("overlay applied: burn2x7 %+v, timeout %v, name %q", p.Work["burn2x7"], p.Limits.TimeoutS, p.Name)
	}
	if _, ok := p.Work["burn2x8.8"]; !ok {
		t.Error("the base's other work entries were dropped")
	}
	os.WriteFile(path, []byte(`{"overlay":"work","work":{"x":{"cpuMs":-1,"threads":1}}}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `work["x"].cpuMs`) || !strings.Contains(err.Error(), "overlay.json") {
		t.Errorf("negative demand: %v", err)
	}
	os.WriteFile(path, []byte(`{"overlay":"work","cpu":{}}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "cpu") {
		t.Errorf("platform field in an overlay: %v", err)
	}
}
