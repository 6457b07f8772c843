package optimizer

import (
	"reflect"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/internal/testapp"
)

// shop has two entry tasks, F (the default) and A, as the webshop has
// (testapp.TwoEntries).
func shop() *fusionsim.App { return testapp.TwoEntries() }

// TestSeveralEntries: partitions, layouts and rule setups of an
// application with two entry tasks start from both. For every one of the
// Bell(5) = 52 partitions, PartitionFunctions equals the Layout of
// PartitionSetup and of the canonical setup, and both entries head a
// function.
func TestSeveralEntries(t *testing.T) {
	app := shop()
	if got := PartitionTasks(app); !reflect.DeepEqual(got, []string{"F", "A", "X", "Y", "S"}) {
		t.Fatalf("PartitionTasks %v", got)
	}
	seq, err := AllPartitions(app)
	if err != nil {
		t.Fatal(err)
	}
	name := fusionsim.NewTraceName("x")
	n := 0
	for p := range seq {
		n++
		fns := PartitionFunctions(app, p)
		d := DescribeFunctions(fns)
		if len(fns) < 2 || fns[0].Entry != "F" || fns[1].Entry != "A" {
			t.Fatalf("%s: functions %s do not start with the entries F and A", p, d)
		}
		if l := Describe(app, PartitionSetup(app, p, name)); l != d {
			t.Fatalf("%s: PartitionFunctions %s, Layout of PartitionSetup %s", p, d, l)
		}
		if l := Describe(app, CanonicalPartitionSetup(app, p, name)); l != d {
			t.Fatalf("%s: PartitionFunctions %s, Layout of the canonical setup %s", p, d, l)
		}
	}
	if n != 52 {
		t.Errorf("%d partitions, want Bell(5) = 52", n)
	}
	// {F, A} in one group: two functions, each with what it reaches.
	got := DescribeFunctions(PartitionFunctions(app, Partition{{"F", "A", "X", "Y", "S"}}))
	if want := "F+X+Y+S:128,A+S:128"; got != want {
		t.Errorf("one group: %s, want %s", got, want)
	}
	// Connected partitions never let an entry join another group.
	ps, err := Partitions(app)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for _, g := range p {
			for _, task := range g[1:] {
				if app.IsEntry(task) {
					t.Errorf("connected partition %s puts entry %s inside a group", p, task)
				}
			}
		}
	}
	// Rule setups: with every edge local, each entry's function runs what
	// it reaches.
	all := make([]bool, len(app.Edges))
	for i := range all {
		all[i] = true
	}
	if got := Describe(app, FromAssignment(app, all, name)); got != "F+X+Y+S:128,A+S:128" {
		t.Errorf("all local: %s", got)
	}
	if got := Describe(app, FromAssignment(app, make([]bool, len(app.Edges)), name)); got != "F:128,A:128,X:128,Y:128,S:128" {
		t.Errorf("all remote: %s", got)
	}
}
