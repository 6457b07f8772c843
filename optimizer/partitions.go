package optimizer

import (
	"fmt"
	"iter"
	"math/big"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// All set partitions of an application's tasks, and what each deploys.
//
// A partition groups the tasks: the tasks of a group share one deployment
// package and call each other in-process; a call between tasks of different
// groups is remote. Lambda functions are named by their entry task (the
// prototype's FunctionID), so a group is deployed as one function per entry
// point, and the call graph decides the entry points: a task of the group
// that the application's entry is, or that a task of another group calls.
// Each entry point's function runs in-process the tasks of its group that it
// reaches through calls inside the group (PartitionFunctions).
//
// A group that is connected with a single root (every other task of it is
// called by a task of the group, all reached from the root) has one entry
// point when no task of another group calls into it, and is then exactly one
// function. Other groups are several functions:
//
//   - A group whose tasks do not call each other ({CW, DJ} of IoT) deploys
//     the same functions as its tasks in groups of their own: grouping them
//     changes no call from remote to local.
//   - A group with several roots ({CA, CT, AS}: CA and CT both call AS) is a
//     function per root, and a task reached from several roots runs in each
//     of them ({CA, AS} and {CT, AS}): its code is duplicated, as a fused
//     function of Fusionize duplicates it.
//   - A task of the group that is also called from another group is an entry
//     point too and gets a function of its own beside the in-process copy.
//
// Many partitions thus deploy the same functions; PartitionSetup's canonical
// rules make their setups equal, so that they are measured with the same
// seed (SeedFor) and give the same figures.

// MaxPartitionTasks bounds AllPartitions: Bell(15) is 1,382,958,545.
const MaxPartitionTasks = 14

// Bell returns the number of set partitions of n elements.
func Bell(n int) *big.Int {
	// The Bell triangle.
	row := []*big.Int{big.NewInt(1)}
	for i := 0; i < n; i++ {
		next := []*big.Int{new(big.Int).Set(row[len(row)-1])}
		for _, v := range row {
			next = append(next, new(big.Int).Add(next[len(next)-1], v))
		}
		row = next
	}
	return row[0]
}

// PartitionTasks lists the tasks AllPartitions partitions: those reached
// from app's entry through its call edges, in breadth-first order.
func PartitionTasks(app *fusionsim.App) []string { return workloads.Reachable(app) }

// AllPartitions enumerates every set partition of the tasks reached from
// app's entry (Bell(n) of them), in the lexicographic order of their
// restricted growth strings over PartitionTasks: the first puts every task in
// one group, the last every task in a group of its own. Groups are listed in
// the order of their first task, tasks in the order of PartitionTasks. The
// yielded partition's slice of groups is reused: copy it to keep it.
func AllPartitions(app *fusionsim.App) (iter.Seq[Partition], error) {
	tasks := workloads.Reachable(app)
	if len(tasks) > MaxPartitionTasks {
		return nil, fmt.Errorf("%w: %s has %d tasks: Bell(%d) = %s partitions is too many to enumerate (at most %d tasks)",
			ErrConfig, app.Name, len(tasks), len(tasks), Bell(len(tasks)), MaxPartitionTasks)
	}
	return func(yield func(Partition) bool) {
		n := len(tasks)
		a := make([]int, n)  // a[i]: group of task i
		mx := make([]int, n) // mx[i]: max(a[0..i])
		p := make(Partition, 0, n)
		for {
			p = p[:0]
			for i, g := range a {
				if g == len(p) {
					p = append(p, nil)
				}
				p[g] = append(p[g], tasks[i])
			}
			if !yield(p) {
				return
			}
			// Next restricted growth string: the last position that can grow
			// does, everything after it goes back to group 0.
			i := n - 1
			for i > 0 && a[i] > mx[i-1] {
				i--
			}
			if i <= 0 {
				return
			}
			a[i]++
			mx[i] = max(mx[i-1], a[i])
			for j := i + 1; j < n; j++ {
				a[j], mx[j] = 0, mx[i]
			}
		}
	}, nil
}

// Connected reports whether every group of p is connected through calls
// with a single root: every task of a group but one is called by another
// task of the group (the restriction of Partitions).
func Connected(app *fusionsim.App, p Partition) bool {
	group := groupIndex(p)
	called := map[string]bool{}
	for _, e := range app.Edges {
		gc, ok1 := group[e.Caller]
		gd, ok2 := group[e.Called]
		if ok1 && ok2 && gc == gd && e.Caller != e.Called {
			called[e.Called] = true
		}
	}
	for _, g := range p {
		roots := 0
		for _, t := range g {
			if !called[t] {
				roots++
			}
		}
		if roots != 1 {
			return false
		}
	}
	return true
}

func groupIndex(p Partition) map[string]int {
	group := make(map[string]int)
	for i, g := range p {
		for _, t := range g {
			group[t] = i
		}
	}
	return group
}

// PartitionFunctions returns the functions p deploys (see the semantics
// above): one per entry point of each group, in the order Layout reaches
// them, each with the tasks it runs in-process, at the default memory size.
// It equals Layout of PartitionSetup and of CanonicalPartitionSetup, without
// building either.
func PartitionFunctions(app *fusionsim.App, p Partition) []Group {
	group := groupIndex(p)
	out := edgesFrom(app)
	var fns []Group
	index := map[string]int{}
	for _, e := range app.EntryTasks() {
		if _, dup := index[e]; !dup {
			index[e] = len(fns)
			fns = append(fns, Group{Entry: e, MemoryMB: fusionsim.DefaultMemoryMB})
		}
	}
	for q := 0; q < len(fns); q++ {
		e := fns[q].Entry
		ge, ok := group[e]
		tasks := []string{e}
		in := map[string]bool{e: true}
		for i := 0; i < len(tasks); i++ {
			for _, ed := range out[tasks[i]] {
				if gc, ok2 := group[ed.Called]; ok && ok2 && gc == ge && ed.Called != e {
					if !in[ed.Called] {
						in[ed.Called] = true
						tasks = append(tasks, ed.Called)
					}
					continue
				}
				if _, seen := index[ed.Called]; !seen {
					index[ed.Called] = len(fns)
					fns = append(fns, Group{Entry: ed.Called, MemoryMB: fusionsim.DefaultMemoryMB})
				}
			}
		}
		fns[q].Tasks = tasks
	}
	return fns
}

// DescribeFunctions writes functions as Describe does,
// "I+CW+SE:128,CS+CSL+CSA:128".
func DescribeFunctions(fns []Group) string {
	var b strings.Builder
	for i, g := range fns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Join(g.Tasks, "+"))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(g.MemoryMB))
	}
	return b.String()
}

// FunctionsSetup is the canonical setup of a list of functions: every rule
// remote to the called task's function at its size (AllRemote), except, in
// the row of each function's entry task, the calls its tasks make to each
// other, which are local. Functions at MemoryMB 0 or the default size are
// reached by urls without a size.
func FunctionsSetup(app *fusionsim.App, fns []Group, name fusionsim.TraceName) *fusionsim.Setup {
	s := AllRemote(app.TaskNames(), name)
	sizes := map[string]int{}
	for _, f := range fns {
		if f.MemoryMB != 0 && f.MemoryMB != fusionsim.DefaultMemoryMB {
			sizes[f.Entry] = f.MemoryMB
		}
	}
	if len(sizes) > 0 {
		s = withMemory(s, sizes, name)
	}
	for _, f := range fns {
		in := make(map[string]bool, len(f.Tasks))
		for _, t := range f.Tasks {
			in[t] = true
		}
		row := s.Rules[f.Entry]
		for _, e := range app.Edges {
			if !in[e.Caller] || !in[e.Called] || e.Called == f.Entry {
				continue
			}
			setLocal(row, e)
		}
	}
	return s
}

// CanonicalPartitionSetup is the setup p deploys, written canonically
// (FunctionsSetup of PartitionFunctions): partitions that deploy the same
// functions get equal rules.
func CanonicalPartitionSetup(app *fusionsim.App, p Partition, name fusionsim.TraceName) *fusionsim.Setup {
	return FunctionsSetup(app, PartitionFunctions(app, p), name)
}

// DeploymentKey is a canonical form of what a setup deploys (its strategies
// and the function every remote rule reaches): setups with equal keys behave
// the same and are measured with the same seed by SeedFor.
func DeploymentKey(s *fusionsim.Setup) string { return deploymentKey(s) }

// setLocal makes the call of edge e run in-process in a function's row.
func setLocal(row map[string]fusionsim.RulePair, e fusionsim.Edge) {
	pr := row[e.Called]
	if e.Sync {
		pr.Sync = fusionsim.Rule{Strategy: fusionsim.Local}
	} else {
		pr.Async = fusionsim.Rule{Strategy: fusionsim.Local}
	}
	row[e.Called] = pr
}
