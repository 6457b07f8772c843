package handler

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// FuzzParsePayload: an invocation payload never panics the handler's
// parser; a client event it accepts is a JSON object that encodes and
// parses back to the same event, and a call envelope keeps its trace id.
func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{`{}`, `null`, ``, `{"sensorId":1}`, `{"fusion":{"traceId":"1-I-128-ab","depth":2},"event":{"a":[1,2]}}`, `{"fusion":{}}`, `[1]`, `{"fusion":null}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, call, err := ParsePayload(payload)
		if err != nil {
			return
		}
		if ev == nil {
			t.Fatalf("%q: nil event", payload)
		}
		if call != nil && call.TraceID == "" {
			t.Fatalf("%q: call without trace id", payload)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%q: event does not encode: %v", payload, err)
		}
		if call != nil {
			b, err = json.Marshal(Envelope{Fusion: *call, Event: ev})
			if err != nil {
				t.Fatal(err)
			}
		}
		ev2, call2, err := ParsePayload(b)
		if err != nil || !reflect.DeepEqual(ev2, ev) || !reflect.DeepEqual(call2, call) {
			t.Fatalf("%q written as %s: %v %v, %v", payload, b, ev2, call2, err)
		}
	})
}

// FuzzDecodeRules: a function's rule row (FUSION_RULES, inline or gzip)
// never panics the decoder; a row it accepts is re-encoded (EncodeRules)
// into one that decodes the same.
func FuzzDecodeRules(f *testing.F) {
	row := map[string]fusionsim.RulePair{"AS": {Sync: fusionsim.Rule{Strategy: "local"}, Async: fusionsim.Rule{Strategy: "remote", URL: "AS-1650"}}}
	enc, _ := EncodeRules(row)
	f.Add(enc)
	big := map[string]fusionsim.RulePair{}
	for _, t := range strings.Fields("A B C D E F G H I J K L M N O P Q R S T U V W X Y Z AA AB AC AD AE AF AG AH") {
		big[t] = fusionsim.RulePair{Sync: fusionsim.Rule{Strategy: "remote", URL: "SYNC-" + t + "-128"}, Async: fusionsim.Rule{Strategy: "remote", URL: t + "-128"}}
	}
	enc, _ = EncodeRules(big)
	f.Add(enc) // gz:...
	f.Add(`{}`)
	f.Add(`gz:H4sIAAAAAAAA/w==`)
	f.Add(`{"A":{"sync":{"strategy":"local","extra":1}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		row, err := DecodeRules(s)
		if err != nil {
			return
		}
		enc, err := EncodeRules(row)
		if err != nil {
			t.Fatalf("%q: accepted row does not encode: %v", s, err)
		}
		back, err := DecodeRules(enc)
		if err != nil || !reflect.DeepEqual(back, row) {
			t.Fatalf("%q encoded as %q decodes as %v, %v", s, enc, back, err)
		}
	})
}
