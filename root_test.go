package fusionsim

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRoute(t *testing.T) {
	cases := []struct {
		in   string
		want Route
		fn   FunctionID
	}{
		{"SYNC-I-128", Route{Task: "I", MemoryMB: 128, Sync: true}, FunctionID{"I", 128}},
		{"SYNC-CSA", Route{Task: "CSA", Sync: true}, FunctionID{"CSA", DefaultMemoryMB}},
		{"AS-1650", Route{Task: "AS", MemoryMB: 1650}, FunctionID{"AS", 1650}},
		{"/G", Route{Task: "G"}, FunctionID{"G", 128}},
		{"SYNC-frontend-10240", Route{Task: "frontend", MemoryMB: 10240, Sync: true}, FunctionID{"frontend", 10240}},
	}
	for _, c := range cases {
		got, err := ParseRoute(c.in)
		if err != nil {
			t.Errorf("ParseRoute(%q): %v", c.in, err)
			continue
		}
		if got != c.want || got.Function() != c.fn {
			t.Errorf("ParseRoute(%q) = %+v (%v), want %+v (%v)", c.in, got, got.Function(), c.want, c.fn)
		}
		if s := got.String(); "/"+s != c.in && s != c.in {
			t.Errorf("Route(%q).String() = %q", c.in, s)
		}
	}
	for _, bad := range []string{"", "SYNC-", "I-64", "I-20000", "I J", "SYNC-I-"} {
		if _, err := ParseRoute(bad); err == nil {
			t.Errorf("ParseRoute(%q) accepted", bad)
		}
	}
}

func TestFunctionNames(t *testing.T) {
	id := FunctionID{Task: "CSL", MemoryMB: 768}
	if id.Name() != "fusion-function-CSL-768" || id.Short() != "CSL-768" {
		t.Fatalf("names: %s %s", id.Name(), id.Short())
	}
	for _, s := range []string{"fusion-function-CSL-768", "CSL-768"} {
		got, err := ParseFunctionName(s)
		if err != nil || got != id {
			t.Errorf("ParseFunctionName(%q) = %v, %v", s, got, err)
		}
	}
	if got, _ := ParseFunctionName("CSL"); got != (FunctionID{"CSL", 128}) {
		t.Errorf("default memory: %v", got)
	}
}

// The configuration metadata of the prototype round-trips byte for byte.
func TestConfigsRoundTripBytes(t *testing.T) {
	files := []string{"testdata/configs-splittest.json"}
	for _, d := range []string{"IoT-generateConfigurations-dualcore-I-100x10x11", "split-generateConfigurations-dualcore-A-13-x-100-x-10"} {
		files = append(files, filepath.Join("..", "shared", "calibration", d, "configuration", "configurationMetadata.json.gz"))
	}
	for _, f := range files {
		data, err := readMaybeGzip(f)
		if errors.Is(err, os.ErrNotExist) {
			t.Logf("%s: not here, skipped", f)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseConfigs(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		marshal := c.Marshal
		if bytes.HasPrefix(data, []byte("{\n")) {
			marshal = c.MarshalIndent
		}
		out, err := marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(data), out) {
			t.Errorf("%s: re-encoded configuration metadata differs from the original", f)
		}
	}
}

func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	return io.ReadAll(r)
}

func TestConfigsOrderAndNames(t *testing.T) {
	data, err := os.ReadFile("testdata/configs-splittest.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfigs(data)
	if err != nil {
		t.Fatal(err)
	}
	names := c.Names()
	if len(names) != 13 || names[0] != "1675261172" || c.Latest() != "1675263938" {
		t.Fatalf("names %v, latest %s", names, c.Latest())
	}
	s := c["1675261521"]
	r, ok := s.Rule("G", "G", true)
	if !ok || r.Strategy != Remote || r.URL != "SYNC-G-768" || !s.TraceName.Numeric {
		t.Fatalf("rule %+v %v, traceName %+v", r, ok, s.TraceName)
	}
	mixed := []string{"b_local", "1675261172", "a_remote", "99"}
	SortSetupNames(mixed)
	if strings.Join(mixed, ",") != "99,1675261172,a_remote,b_local" {
		t.Fatalf("SortSetupNames: %v", mixed)
	}
}

func TestConfigsValidateNamesTheField(t *testing.T) {
	cases := map[string]string{
		`{"s":{"rules":{"A":{"B":{"sync":{"strategy":"inline"},"async":{"strategy":"local"}}}},"traceName":"s"}}`:                    `setup "s": rules["A"]["B"].sync: strategy "inline"`,
		`{"s":{"rules":{"A":{"B":{"sync":{"strategy":"remote"},"async":{"strategy":"local"}}}},"traceName":"s"}}`:                    `rules["A"]["B"].sync: remote rule without url`,
		`{"s":{"rules":{"A":{"B":{"sync":{"strategy":"remote","url":"B"},"async":{"strategy":"local"}}}},"traceName":"s"}}`:          `url "B" is a async route on a sync rule`,
		`{"s":{"rules":{"A":{"B":{"sync":{"strategy":"remote","url":"SYNC-C-128"},"async":{"strategy":"local"}}}},"traceName":"s"}}`: `reaches task "C", not "B"`,
		`{"s":{"rules":{"A":{"B":{"sync":{"strategy":"remote","url":"SYNC-B-64"},"async":{"strategy":"local"}}}},"traceName":"s"}}`:  `memory size 64 MB`,
		`{"s":{"rules":{},"traceName":"a-b"}}`: `traceName: bad setup name: "a-b": character '-'`,
		`{}`:                                   `no setup`,
		`{"s":{"rulez":{}}}`:                   `unknown field "rulez"`,
	}
	for in, want := range cases {
		_, err := ParseConfigs([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfigs(%s) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestLogLineFormats(t *testing.T) {
	tm := time.Date(2022, 2, 14, 11, 6, 40, 698_900_000, time.UTC)
	if got := string(AppendTimestamp(nil, tm)); got != "2022-02-14T11:06:40.698Z" {
		t.Errorf("timestamp %q", got)
	}
	r := Report{RequestID: "id", Duration: 48730 * time.Microsecond, BilledMs: 49, MemoryMB: 128, MaxMemoryUsedMB: 55, InitDuration: 150350 * time.Microsecond}
	want := "REPORT RequestId: id\tDuration: 48.73 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB\tInit Duration: 150.35 ms"
	if got := string(AppendReport(nil, r)); got != want {
		t.Errorf("REPORT\n got %q\nwant %q", got, want)
	}
	r.InitDuration, r.Status, r.ErrorType = 0, "error", "Runtime.OutOfMemory"
	want = "REPORT RequestId: id\tDuration: 48.73 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB\tStatus: error\tError Type: Runtime.OutOfMemory"
	if got := string(AppendReport(nil, r)); got != want {
		t.Errorf("REPORT\n got %q\nwant %q", got, want)
	}
	line := AppendLinePrefix(nil, tm, "id", "INFO")
	line = AppendMessageHead(line, "s-A-128-00", 1644836800698, "A", MsgCall)
	line = AppendCall(line, Call{Local: false, Sync: true, Caller: "A", Called: "B", Time: 12})
	line = append(line, '}')
	want = "2022-02-14T11:06:40.698Z\tid\tINFO\tFSMSG{\"traceId\":\"s-A-128-00\",\"time\":1644836800698,\"sourceFunction\":\"A\",\"type\":\"call\",\"content\":{\"local\":false,\"sync\":true,\"caller\":\"A\",\"called\":\"B\",\"time\":12}}"
	if string(line) != want {
		t.Errorf("FSMSG\n got %q\nwant %q", line, want)
	}
	if got := string(AppendJSONString(nil, "a\"b\\c\n\x01é\u2028")); got != `"a\"b\\c\n\u0001é\u2028"` {
		t.Errorf("JSON string %s", got)
	}
}

func TestAppCheckSetup(t *testing.T) {
	noop := func(Context, Event) (Event, error) { return nil, nil }
	app := &App{Name: "app", Entry: "A", Tasks: map[string]Task{"A": noop, "B": noop}}
	rule := func(url string) RulePair {
		return RulePair{Sync: Rule{Strategy: Remote, URL: "SYNC-" + url}, Async: Rule{Strategy: Local}}
	}
	good := &Setup{TraceName: NewTraceName("s"), Rules: Rules{"A": {"B": rule("B-256")}}}
	if err := app.CheckSetup(good); err != nil {
		t.Fatal(err)
	}
	bad := &Setup{TraceName: NewTraceName("s"), Rules: Rules{"A": {"B": rule("B"), "Y": rule("Y")}, "X": {"A": rule("A")}}}
	err := app.CheckSetup(bad)
	for _, want := range []string{`setup "s": rules["A"]["Y"]: "Y" is not a task of app`, "names task(s) that app does not have: X, Y (its tasks: A, B)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSetup = %v, want it to contain %q", err, want)
		}
	}
	invalid := &Setup{TraceName: NewTraceName("s"), Rules: Rules{"A": {"B": {Sync: Rule{Strategy: "maybe"}, Async: Rule{Strategy: Local}}}}}
	if err := app.CheckSetup(invalid); err == nil || !strings.Contains(err.Error(), `rules["A"]["B"].sync: strategy "maybe"`) {
		t.Errorf("CheckSetup(invalid) = %v", err)
	}
	if err := app.CheckSetup(nil); err == nil {
		t.Error("nil setup accepted")
	}
}
