package workloads

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/testapp"
)

// shop has two entry tasks, F (the default) and A, as the webshop has
// (testapp.TwoEntries).
func shop() *fusionsim.App { return testapp.TwoEntries() }

// TestSeveralEntries: everything that walks the call graph from the entry
// walks it from every entry task, the default one first.
func TestSeveralEntries(t *testing.T) {
	app := shop()
	if err := app.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := Reachable(app); !reflect.DeepEqual(got, []string{"F", "A", "X", "Y", "S"}) {
		t.Errorf("Reachable %v", got)
	}
	remote, err := Remote(app, "r", 512)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := EntryRoutes(app, remote)
	if err != nil || len(routes) != 2 || routes[0].String() != "SYNC-F-512" || routes[1].String() != "SYNC-A-512" {
		t.Errorf("EntryRoutes %v, %v", routes, err)
	}
	if rt, _ := EntryRoute(app, remote); rt.String() != "SYNC-F-512" {
		t.Errorf("EntryRoute %s, want the default entry's", rt)
	}
	fns, err := Functions(app, remote)
	if err != nil || fmtIDs(fns) != "F-512 A-512 X-512 Y-512 S-512" {
		t.Errorf("Functions of remote: %s, %v", fmtIDs(fns), err)
	}
	// Groups: every entry task heads a group.
	if _, err := ParseGroups(app, "F+X+Y,S"); err == nil || !strings.Contains(err.Error(), "entry task A of shop is the first task of no group") {
		t.Errorf("a setup without A's function: %v", err)
	}
	s, err := FromDescription(app, "g", "F+X+Y,A:1024,S")
	if err != nil {
		t.Fatal(err)
	}
	fns, err = Functions(app, s)
	if err != nil || fmtIDs(fns) != "F-128 A-1024 S-128" {
		t.Errorf("Functions of F+X+Y,A:1024,S: %s, %v", fmtIDs(fns), err)
	}
	if m, _ := MemorySummary(app, s); m != "A:1024 F:128 S:128" {
		t.Errorf("MemorySummary %q", m)
	}
	// Local: each entry's function runs everything it reaches.
	local, err := Local(app, "l")
	if err != nil {
		t.Fatal(err)
	}
	if fns, err := Functions(app, local); err != nil || fmtIDs(fns) != "F-128 A-128" {
		t.Errorf("Functions of local: %s, %v", fmtIDs(fns), err)
	}
	// A bad entry list.
	bad := shop()
	bad.Entries = []string{"A", "F"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "the first must be the default entry") {
		t.Errorf("entries not starting with Entry: %v", err)
	}
	bad.Entries = []string{"F", "Q"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `entry task "Q" is not a task`) {
		t.Errorf("unknown entry: %v", err)
	}
}

func fmtIDs(ids []fusionsim.FunctionID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Task + "-" + strconv.Itoa(id.MemoryMB)
	}
	return strings.Join(s, " ")
}
