package model

import (
	"reflect"
	"testing"
)

// FuzzParseProfile: profile JSON never panics; an accepted profile is valid,
// and Marshal writes it in a form that parses to the same profile.
func FuzzParseProfile(f *testing.F) {
	f.Add(DefaultJSON())
	f.Add([]byte(`{"name":"x"}`))
	f.Add([]byte(`{"cpu":{"mbPerVCPU":-1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid profile: %v", err)
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatalf("accepted profile does not marshal: %v", err)
		}
		back, err := Parse(b)
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("written back as %s: %v", b, err)
		}
	})
}
