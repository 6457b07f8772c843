package fusionsim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestValidateSetupName(t *testing.T) {
	for _, ok := range []string{"1675344670", "007", "a_remote", "c_optimal", "remote_128", "setup1", "0", strings.Repeat("x", MaxSetupNameLen)} {
		if err := ValidateSetupName(ok); err != nil {
			t.Errorf("ValidateSetupName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "../../etc", "a-b", "a b", "a/b", `a"b`, ".hidden", "é", "a\x00", "1.5", strings.Repeat("x", MaxSetupNameLen+1)} {
		if err := ValidateSetupName(bad); err == nil {
			t.Errorf("ValidateSetupName(%q) accepted", bad)
		}
	}
}

// Issue 15: a setup named 007 was read as the number 007 and could not be
// written back; names keep their JSON type.
func TestTraceNameKeepsItsType(t *testing.T) {
	cases := []struct{ in, out string }{
		{`{"007":{"rules":{}}}`, `{"007":{"rules":{},"traceName":"007"}}`},
		{`{"007":{"rules":{},"traceName":"007"}}`, `{"007":{"rules":{},"traceName":"007"}}`},
		{`{"1675344670":{"rules":{},"traceName":1675344670}}`, `{"1675344670":{"rules":{},"traceName":1675344670}}`},
		{`{"1675344670":{"rules":{},"traceName":"1675344670"}}`, `{"1675344670":{"rules":{},"traceName":"1675344670"}}`},
		{`{"00000000":{}}`, `{"00000000":{"rules":null,"traceName":"00000000"}}`},
	}
	for _, c := range cases {
		cfg, err := ParseConfigs([]byte(c.in))
		if err != nil {
			t.Fatalf("ParseConfigs(%s): %v", c.in, err)
		}
		out, err := cfg.Marshal()
		if err != nil {
			t.Fatalf("%s: Marshal: %v", c.in, err)
		}
		if string(out) != c.out {
			t.Errorf("%s written back as %s, want %s", c.in, out, c.out)
		}
	}
	for in, want := range map[string]string{
		`{"../../etc":{"rules":{}}}`:                       `bad setup name: "../../etc"`,
		`{"a":{"rules":{},"traceName":"b"}}`:               `traceName "b" differs`,
		`{"1e3":{"rules":{},"traceName":1e3}}`:             `not a non-negative integer`,
		`{"x":{"rules":{},"traceName":"x-1"}}`:             `"x-1": character '-'`,
		`{"` + strings.Repeat("y", 65) + `":{"rules":{}}}`: `longer than 64 bytes`,
	} {
		if _, err := ParseConfigs([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfigs(%s) = %v, want an error containing %q", in, err, want)
		}
	}
}

// FuzzSetupName: the name rule is checked where configuration metadata
// enters, and every name it accepts round-trips through configuration
// metadata unchanged, in its JSON type: as a string always, as a number
// when it is a canonical integer.
func FuzzSetupName(f *testing.F) {
	for _, s := range []string{"1675344670", "007", "00000000", "a_remote", "0", "../../etc", "a-b", "", "1e3", "x\"y", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, err := json.Marshal(name)
		if err != nil {
			return // not UTF-8: not a JSON key either
		}
		doc := []byte(`{` + string(key) + `:{"rules":{}}}`)
		c, perr := ParseConfigs(doc)
		if verr := ValidateSetupName(name); verr != nil {
			if perr == nil {
				t.Fatalf("%q breaks the name rule (%v) but configuration metadata %s was accepted", name, verr, doc)
			}
			return
		}
		if perr != nil {
			t.Fatalf("valid name %q: %s: %v", name, doc, perr)
		}
		if got := c[name].TraceName; got != NewTraceName(name) || got.Numeric != IsNumericName(name) {
			t.Fatalf("%q: traceName %+v", name, got)
		}
		for _, tn := range []TraceName{NewTraceName(name), {Name: name}} {
			cfg := Configs{name: &Setup{Rules: Rules{}, TraceName: tn}}
			for _, marshal := range []func() ([]byte, error){cfg.Marshal, cfg.MarshalIndent} {
				out, err := marshal()
				if err != nil {
					t.Fatalf("%+v does not marshal: %v", tn, err)
				}
				back, err := ParseConfigs(out)
				if err != nil {
					t.Fatalf("%+v written as %s does not parse: %v", tn, out, err)
				}
				if !reflect.DeepEqual(back, cfg) {
					t.Fatalf("%+v written as %s read back as %+v", tn, out, back[name].TraceName)
				}
			}
			b, err := json.Marshal(tn)
			if err != nil {
				t.Fatal(err)
			}
			if (b[0] == '"') == tn.Numeric {
				t.Fatalf("%+v written as %s", tn, b)
			}
		}
	})
}
