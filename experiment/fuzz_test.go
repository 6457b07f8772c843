package experiment

import (
	"reflect"
	"testing"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/workloads"
)

// FuzzGroupSyntax: "NAME=groups" never panics; an accepted setup has a name
// that passes the name rule, is exactly NAME, and round-trips through
// configuration metadata.
func FuzzGroupSyntax(f *testing.F) {
	f.Add("opt", "I+CW+SE:128,CS+CSL+CSA:128,CA+DJ:128,CT:128,AS:1650")
	f.Add("007", "I+CW+SE+CS+CSL+CSA+CA+DJ+CT+AS:128")
	f.Add("../../etc", "I+CW+SE+CS+CSL+CSA+CA+DJ+CT+AS")
	f.Add("1675344670", "I+CW+SE+CS+CSL+CSA+CA+DJ+CT+AS:1024")
	app := workloads.IoT().App
	f.Fuzz(func(t *testing.T, name, desc string) {
		spec := name + "=" + desc
		if isFile(spec) {
			return // a file: not the group syntax
		}
		setups, err := Setups(app, []string{spec}, nil)
		if err != nil {
			return
		}
		s := setups[0]
		if s.Name() != name || fusionsim.ValidateSetupName(name) != nil {
			t.Fatalf("%q: setup named %q", spec, s.Name())
		}
		b, err := fusionsim.Configs{name: s}.Marshal()
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		back, err := fusionsim.ParseConfigs(b)
		if err != nil || !reflect.DeepEqual(back[name], s) {
			t.Fatalf("%q written as %s: %v", spec, b, err)
		}
	})
}
