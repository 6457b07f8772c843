package lambdaapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// FuzzFunctionRef: what the Lambda API takes as a function name (a name, a
// name with a qualifier, a full or partial ARN) never panics the parser;
// an accepted one is a valid function whose name and ARN parse back to it.
func FuzzFunctionRef(f *testing.F) {
	for _, s := range []string{"fusion-function-I-128", "I-128", "I", "I-128:$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:fusion-function-I-128", "arn:aws:lambda:us-east-1:123456789012:function:I:7", "123456789012:function:I-128", "a:b:c", "I-64", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		id, _, err := parseFunctionRef(ref)
		if err != nil {
			return
		}
		if err := fusionsim.ValidateTaskName(id.Task); err != nil || id.MemoryMB < fusionsim.MinMemoryMB || id.MemoryMB > fusionsim.MaxMemoryMB {
			t.Fatalf("%q: function %+v", ref, id)
		}
		for _, again := range []string{id.Name(), functionARN(id.Name()), id.Short() + ":$LATEST"} {
			back, _, err := parseFunctionRef(again)
			if err != nil || back != id {
				t.Fatalf("%q = %+v written as %q reads %+v, %v", ref, id, again, back, err)
			}
		}
	})
}

// FuzzParseEvent: a request body never panics the emulator's parser; an
// accepted event is a JSON object that encodes and parses back the same.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{}`, ` `, `null`, `{"n":41,"a":[1,{"b":null}]}`, `[1,2]`, `{"a":`, `"s"`, `1e999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := parseEvent(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Could not") {
				t.Fatalf("%q: error %v", body, err)
			}
			return
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		back, err := parseEvent(b)
		if err != nil || !reflect.DeepEqual(back, ev) {
			t.Fatalf("%q written as %s: %v, %v", body, b, back, err)
		}
	})
}
