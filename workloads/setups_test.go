package workloads

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// readConfigs reads a gzip configuration metadata file of testdata/ (copies
// of ../shared/calibration/*/configuration/configurationMetadata.json.gz).
func readConfigs(t *testing.T, name string) fusionsim.Configs {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fusionsim.ParseConfigs(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameSetup compares two setups rule by rule and reports the first
// difference.
func sameSetup(t *testing.T, what string, got, want *fusionsim.Setup) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for e, m := range want.Rules {
		for c, p := range m {
			if g := got.Rules[e][c]; g != p {
				t.Errorf("%s: rules[%s][%s] = %+v, want %+v", what, e, c, g, p)
				return
			}
		}
	}
	t.Errorf("%s: setups differ: got %+v, want %+v", what, got, want)
}

func TestGeneratedSetupsMatchTheCalibrationFiles(t *testing.T) {
	split := mustWorkload(t, "split").App
	iot := mustWorkload(t, "iot").App
	cold := readConfigs(t, "split-coldStarts-configurationMetadata.json.gz")
	opt := readConfigs(t, "iot-optimizer-configurationMetadata.json.gz")
	sweep := readConfigs(t, "splittest-configurationMetadata.json.gz")

	remote, err := Remote(split, "a_remote", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameSetup(t, "split remote", remote, cold["a_remote"])
	local, err := Local(split, "b_local")
	if err != nil {
		t.Fatal(err)
	}
	sameSetup(t, "split local", local, cold["b_local"])

	for _, tc := range []struct {
		app        *fusionsim.App
		name, desc string
		want       *fusionsim.Setup
	}{
		{split, "c_optimal", "A+B+D+E:128,C:1024,F:1536,G:1536", cold["c_optimal"]},
		{split, "d_optimal_small", "A+B+D+E,C,F,G", cold["d_optimal_small"]},
		{split, "d_optimal_small", "A.B.D.E,C,F,G", cold["d_optimal_small"]},
		{iot, "1676018871", "I,CW,SE,CT,CS,CSL,CSA,CA,DJ,AS", opt["1676018871"]},
		{iot, "1676020374", "I,CW,SE,CT,CS+CSL+CSA,CA,DJ,AS", opt["1676020374"]},
		{iot, "1676021998", "I+CW+SE,CS+CSL+CSA,CA+DJ,CT,AS", opt["1676021998"]},
		{iot, "1676022528", "I+CW+SE:768,CS+CSL+CSA:768,CA+DJ:768,CT:768,AS:768", opt["1676022528"]},
		{iot, "1676026914", "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650", opt["1676026914"]},
	} {
		if tc.want == nil {
			t.Fatalf("%s: not in the file", tc.name)
		}
		s, err := FromDescription(tc.app, tc.name, tc.desc)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		// The optimizer wrote numeric trace names; ours are numeric too when
		// the name is digits only.
		sameSetup(t, tc.desc, s, tc.want)
	}

	g := mustWorkload(t, "splittest").App
	for _, name := range sweep.Names() {
		want := sweep[name]
		route, err := EntryRoute(split, want)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Remote(g, name, route.MemoryMB)
		if err != nil {
			t.Fatal(err)
		}
		if route.MemoryMB == fusionsim.DefaultMemoryMB {
			s, _ = Remote(g, name, 0) // the first setup of the sweep names no size
		}
		sameSetup(t, "splittest "+name, s, want)
	}
}

func TestMarshalledLikeThePrototype(t *testing.T) {
	split := mustWorkload(t, "split").App
	s, err := FromDescription(split, "c_optimal", "A+B+D+E:128,C:1024,F:1536,G:1536")
	if err != nil {
		t.Fatal(err)
	}
	got, err := fusionsim.Configs{"c_optimal": s}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want, err := fusionsim.Configs{"c_optimal": readConfigs(t, "split-coldStarts-configurationMetadata.json.gz")["c_optimal"]}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("marshalled:\n%s\nwant\n%s", got, want)
	}
}

func TestEntryRoute(t *testing.T) {
	split := mustWorkload(t, "split").App
	cold := readConfigs(t, "split-coldStarts-configurationMetadata.json.gz")
	for name, want := range map[string]string{
		"a_remote": "SYNC-A-128", "b_local": "SYNC-A-128", "c_optimal": "SYNC-A-128", "d_optimal_small": "SYNC-A-128",
	} {
		r, err := EntryRoute(split, cold[name])
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != want {
			t.Errorf("%s: %s, want %s", name, r, want)
		}
	}
	sweep := readConfigs(t, "splittest-configurationMetadata.json.gz")
	r, err := EntryRoute(split, sweep["1675261521"])
	if err != nil || r.String() != "SYNC-G-768" {
		t.Errorf("splittest 1675261521: %v %v, want SYNC-G-768", r, err)
	}
	iot := mustWorkload(t, "iot").App
	s, _ := FromDescription(iot, "x", "I+CW+SE:1024,CS+CSL+CSA,CA+DJ,CT,AS")
	if r, _ := EntryRoute(iot, s); r.String() != "SYNC-I-1024" {
		t.Errorf("got %s, want SYNC-I-1024", r)
	}
}

// TaskRoute: any task's route at the memory size of its own function's
// rule, the default size when the setup gives it no rule table.
func TestTaskRoute(t *testing.T) {
	iot := mustWorkload(t, "iot").App
	s, err := FromDescription(iot, "x", "I+CW+SE:1024,CS+CSL+CSA,CA+DJ,CT:768,AS:2048")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		task string
		sync bool
		want string
	}{{"I", true, "SYNC-I-1024"}, {"CT", false, "CT-768"}, {"AS", true, "SYNC-AS-2048"}, {"CS", false, "CS-128"}, {"CW", true, "SYNC-CW-128"}} {
		r, err := TaskRoute(s, c.task, c.sync)
		if err != nil || r.String() != c.want {
			t.Errorf("TaskRoute(%s, %v) = %s, %v; want %s", c.task, c.sync, r, err, c.want)
		}
	}
}

func TestMemorySummary(t *testing.T) {
	split := mustWorkload(t, "split").App
	cold := readConfigs(t, "split-coldStarts-configurationMetadata.json.gz")
	for name, want := range map[string]string{
		"a_remote":        "A:128 B:128 C:128 D:128 E:128 F:128 G:128",
		"b_local":         "A:128",
		"c_optimal":       "A:128 C:1024 F:1536 G:1536",
		"d_optimal_small": "A:128 C:128 F:128 G:128",
	} {
		got, err := MemorySummary(split, cold[name])
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestParseGroupsErrors(t *testing.T) {
	iot := mustWorkload(t, "iot").App
	split := mustWorkload(t, "split").App
	for _, tc := range []struct {
		app  *fusionsim.App
		desc string
		want string // in the error
	}{
		{iot, "", "empty description"},
		{iot, "I+CW+SE:128,CS+CSL+XX:128,CA+DJ,CT,AS", `group 2 "CS+CSL+XX:128": "XX" is not a task of iot`},
		{iot, "I+CW+SE:64,CS+CSL+CSA,CA+DJ,CT,AS", `group 1 "I+CW+SE:64": memory size 64 MB is outside 128..10240 MB`},
		{iot, "I+CW+SE:lots,CS+CSL+CSA,CA+DJ,CT,AS", `memory size "lots" is not a whole number of MB`},
		{iot, "I+CW+CW,CS+CSL+CSA,CA+DJ,CT,AS", "task CW appears twice"},
		{iot, "I+CW+SE,CS+CSL+CSA,CA+DJ,CT", `group 3 "CA+DJ": CA calls AS remotely, but AS is the entry task of no group`},
		{iot, "CW,I+SE,CS+CSL+CSA,CA+DJ,CT,AS", ""}, // fine: CW its own function
		{iot, "CS+CSL+CSA,CA+DJ,CT,AS", "the entry task I of iot is the first task of no group"},
		{iot, "I+CW+SE,CS+CSL+CSA,CA+DJ,CT,AS,AS:256", `groups 5 "AS" and 6 "AS:256" both have entry task AS`},
		{iot, "I+CW+SE+AS,CS+CSL+CSA,CA+DJ,CT", `AS is not reached from I`},
		{iot, "I+CW.SE,CS,CA,CT,AS", "mixes '+' and '.'"},
		{split, "A+B,,C", "group 2 \"\": empty task name"},
		{split, "B.D.E.C,A,F,G", "cannot tell the entry task"},
	} {
		_, err := ParseGroups(tc.app, tc.desc)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.desc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.desc, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrBadGroups) {
			t.Errorf("%q: %v does not wrap ErrBadGroups", tc.desc, err)
		}
	}
}

func TestGroupsString(t *testing.T) {
	split := mustWorkload(t, "split").App
	gs, err := ParseGroups(split, " A.B.D.E , C:1024,F:1536,G ")
	if err != nil {
		t.Fatal(err)
	}
	if got := gs.String(); got != "A+B+D+E,C:1024,F:1536,G" {
		t.Errorf("got %q", got)
	}
}
