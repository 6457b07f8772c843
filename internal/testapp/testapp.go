// Package testapp holds small applications that tests of several packages
// share.
package testapp

import "github.com/fusionsim/fusionsim"

// TwoEntries is an application with two entry tasks, as the webshop has
// (frontend and addcartitem): F (the default entry) calls X (sync) and Y
// (async), X calls S (sync), the second entry A calls S (async). Every
// task returns an empty event.
func TwoEntries() *fusionsim.App {
	noop := func(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) { return fusionsim.Event{}, nil }
	return &fusionsim.App{
		Name: "shop", Entry: "F", Entries: []string{"F", "A"},
		Tasks: map[string]fusionsim.Task{"F": noop, "A": noop, "X": noop, "Y": noop, "S": noop},
		Edges: []fusionsim.Edge{
			{Caller: "F", Called: "X", Sync: true},
			{Caller: "F", Called: "Y", Sync: false},
			{Caller: "X", Called: "S", Sync: true},
			{Caller: "A", Called: "S", Sync: false},
		},
	}
}
