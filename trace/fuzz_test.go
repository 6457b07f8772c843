package trace

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

// FuzzParseLine: ParseLine never panics, fails only with ErrMalformed, and a
// parsed control or FSMSG line written back in the runtime's format (the
// root package's writers) parses to the same values.
func FuzzParseLine(f *testing.F) {
	files, _ := filepath.Glob("testdata/cloudwatch/*.log")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
	}
	f.Add("REPORT RequestId: x\tDuration: 0.005 ms\tBilled Duration: 0 ms\tMemory Size: 0 MB\tMax Memory Used: 0 MB\tStatus: error\tError Type: E")
	f.Add("2023-02-10T09:00:00.416+02:00 2023/02/10/[$LATEST]0a END RequestId: x")
	f.Fuzz(func(t *testing.T, text string) {
		l, err := ParseLine(text)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if l.Kind == Message {
			// The canonical fast path and encoding/json agree.
			payload := strings.TrimPrefix(l.Text, fusionsim.MessageMarker)
			var fast, slow Line
			okFast := parseCanonical(&fast, payload)
			errSlow := parseMessage(&slow, payload)
			if okFast && errSlow != nil {
				t.Fatalf("%q: the fast path accepts what encoding/json rejects: %v", payload, errSlow)
			}
			if okFast && !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q:\nfast %+v\nslow %+v", payload, fast, slow)
			}
		}
		var again string
		switch l.Kind {
		case Foreign:
			return
		case Start:
			again = string(fusionsim.AppendStart(nil, l.RequestID))
		case End:
			again = string(fusionsim.AppendEnd(nil, l.RequestID))
		case Report:
			again = string(fusionsim.AppendReport(nil, l.Report))
		case Message:
			b := fusionsim.AppendLinePrefix(nil, l.Time, l.RequestID, l.Level)
			b = fusionsim.AppendMessageHead(b, l.Msg.TraceID, l.Msg.Time, l.Msg.SourceFunction, l.Msg.Type)
			b = append(b, l.Msg.Content...)
			again = string(append(b, '}'))
		}
		l2, err := ParseLine(again)
		if err != nil {
			t.Fatalf("%q written back as %q: %v", text, again, err)
		}
		if l2.Kind != l.Kind || l2.RequestID != l.RequestID {
			t.Fatalf("%q -> %q: kind %v id %q, want %v %q", text, again, l2.Kind, l2.RequestID, l.Kind, l.RequestID)
		}
		switch l.Kind {
		case Report:
			want := l.Report
			want.Duration = round10us(want.Duration)
			want.InitDuration = round10us(want.InitDuration)
			if want.InitDuration == 0 {
				want.InitDuration = 0
			}
			if l2.Report != want {
				t.Fatalf("%q -> %q:\n got %+v\nwant %+v", text, again, l2.Report, want)
			}
		case Message:
			if !l2.Time.Equal(l.Time.Truncate(time.Millisecond)) && l.Time.Year() >= 0 {
				t.Fatalf("%q -> %q: time %v, want %v", text, again, l2.Time, l.Time)
			}
			if l2.Level != l.Level || l2.Msg.TraceID != l.Msg.TraceID || l2.Msg.Time != l.Msg.Time ||
				l2.Msg.SourceFunction != l.Msg.SourceFunction || l2.Msg.Type != l.Msg.Type ||
				l2.Init != l.Init || l2.Call != l.Call || l2.Ms != l.Ms {
				t.Fatalf("%q -> %q:\n got %+v\nwant %+v", text, again, l2, l)
			}
		}
	})
}

// round10us rounds as the REPORT line prints: ms with two decimals, half up.
func round10us(d time.Duration) time.Duration {
	return (d + 5*time.Microsecond) / (10 * time.Microsecond) * (10 * time.Microsecond)
}

// FuzzParseConfigData: reading configuration metadata (gzip or not) never
// panics, and what it accepts survives Marshal and a second parse unchanged.
func FuzzParseConfigData(f *testing.F) {
	f.Add([]byte(`{"a_remote":{"rules":{"A":{"B":{"async":{"strategy":"remote","url":"B"},"sync":{"strategy":"remote","url":"SYNC-B"}}}}}}`))
	f.Add([]byte(`{"1676026914":{"traceName":1676026914,"rules":{"I":{"AS":{"sync":{"strategy":"local"},"async":{"strategy":"remote","url":"AS-1650"}}}}}}`))
	f.Add([]byte(`{"s":{"traceName":"s","rules":{}}}`))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	dirs, _ := filepath.Glob(filepath.Join(calibrationDir, "*", ConfigDir, ConfigFile+".gz"))
	for _, p := range dirs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfigData(data)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("accepted configuration does not marshal: %v", err)
		}
		c2, err := ParseConfigData(out)
		if err != nil {
			t.Fatalf("marshalled configuration %s does not parse: %v", out, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the configuration:\n%s", out)
		}
	})
}

// FuzzParseRecords: trace files never panic the reader; the records it
// accepts are valid and written back (MarshalRecords) read the same.
func FuzzParseRecords(f *testing.F) {
	b, _ := MarshalRecords([]Record{validRecord()})
	f.Add(b)
	f.Add([]byte(`[null]`))
	f.Add([]byte(`[{}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"traceId":"x"}`))
	if b, err := os.ReadFile("testdata/cloudwatch/expected-1676026914.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseRecords(data)
		if err != nil {
			return
		}
		for i := range recs {
			if err := ValidateRecord(&recs[i]); err != nil {
				t.Fatalf("accepted record %d: %v", i, err)
			}
		}
		out, err := MarshalRecords(recs)
		if err != nil {
			t.Fatalf("accepted records do not marshal: %v", err)
		}
		back, err := ParseRecords(out)
		if err != nil || !reflect.DeepEqual(back, recs) {
			t.Fatalf("written back as %s: %v", out, err)
		}
	})
}

// FuzzExtractLogFile: a log file (CloudWatch export or the emulator's
// DirSink form) never panics the extractor, every line is counted once,
// and every record it extracts is a valid record that a trace file holds
// unchanged.
func FuzzExtractLogFile(f *testing.F) {
	files, _ := filepath.Glob("testdata/cloudwatch/*.log")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("START RequestId: x\nREPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := NewExtractor(Options{})
		if err := x.AddReader(bytes.NewReader(data), "fusion-function-A-128.log"); err != nil {
			return // a line longer than the scanner takes
		}
		ext := x.Finish()
		if want := bytes.Count(data, []byte("\n")); ext.Lines != want && ext.Lines != want+1 {
			t.Fatalf("%d lines counted in %d newlines", ext.Lines, want)
		}
		if ext.Malformed+ext.Foreign > ext.Lines {
			t.Fatalf("counters %+v", ext)
		}
		for setup, recs := range ext.Traces {
			if err := fusionsim.ValidateSetupName(setup); err != nil {
				t.Fatalf("setup %q: %v", setup, err)
			}
			out, err := MarshalRecords(recs)
			if err != nil {
				t.Fatalf("setup %q: %v", setup, err)
			}
			back, err := ParseRecords(out)
			if err != nil || !reflect.DeepEqual(back, recs) {
				t.Fatalf("setup %q: extracted records %s do not read back: %v", setup, out, err)
			}
		}
	})
}
