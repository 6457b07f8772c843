package aws

import (
	"sort"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// Functions lists, sorted by name, the functions a deployment of setup
// needs (workloads.Functions): the entry route's, the extra roots' and every
// function a request reaches from them.
func Functions(app *fusionsim.App, setup *fusionsim.Setup, extra ...fusionsim.FunctionID) ([]fusionsim.FunctionID, error) {
	ids, err := workloads.Functions(app, setup, extra...)
	if err != nil {
		return nil, err
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Name() < ids[j].Name() })
	return ids, nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
