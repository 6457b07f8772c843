package trace

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fusionsim/fusionsim"
)

const rid = "8f5c1a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseLineControl(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       Line
	}{
		{"start", "START RequestId: " + rid + " Version: $LATEST",
			Line{Kind: Start, RequestID: rid}},
		{"start without version", "START RequestId: " + rid,
			Line{Kind: Start, RequestID: rid}},
		{"end", "END RequestId: " + rid, Line{Kind: End, RequestID: rid}},
		{"end CRLF", "END RequestId: " + rid + "\r", Line{Kind: End, RequestID: rid}},
		{"report warm", "REPORT RequestId: " + rid + "\tDuration: 48.73 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB",
			Line{Kind: Report, RequestID: rid, Report: fusionsim.Report{RequestID: rid, Duration: 48730 * time.Microsecond, BilledMs: 49, MemoryMB: 128, MaxMemoryUsedMB: 55}}},
		{"report cold, trailing tab", "REPORT RequestId: " + rid + "\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 1024 MB\tMax Memory Used: 80 MB\tInit Duration: 150.35 ms\t",
			Line{Kind: Report, RequestID: rid, Report: fusionsim.Report{RequestID: rid, Duration: 1500 * time.Microsecond, BilledMs: 2, MemoryMB: 1024, MaxMemoryUsedMB: 80, InitDuration: 150350 * time.Microsecond}}},
		{"report timeout", "REPORT RequestId: " + rid + "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 80 MB\tStatus: timeout",
			Line{Kind: Report, RequestID: rid, Report: fusionsim.Report{RequestID: rid, Duration: 3 * time.Second, BilledMs: 3000, MemoryMB: 128, MaxMemoryUsedMB: 80, Status: "timeout"}}},
		{"report OOM", "REPORT RequestId: " + rid + "\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: 1.00 ms\tStatus: error\tError Type: Runtime.OutOfMemory",
			Line{Kind: Report, RequestID: rid, Report: fusionsim.Report{RequestID: rid, Duration: 10 * time.Millisecond, BilledMs: 10, MemoryMB: 128, MaxMemoryUsedMB: 128, InitDuration: time.Millisecond, Status: "error", ErrorType: "Runtime.OutOfMemory"}}},
		{"report unknown fields", "REPORT RequestId: " + rid + "\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tXRAY TraceId: 1-5e1b4151-5ac6c58f5b2d4e8a\tSegmentId: 6b8d\tSampled: true",
			Line{Kind: Report, RequestID: rid, Report: fusionsim.Report{RequestID: rid, Duration: 2 * time.Millisecond, BilledMs: 2, MemoryMB: 128, MaxMemoryUsedMB: 70}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Text = strings.TrimRight(tc.text, "\t\r")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseLineMessage(t *testing.T) {
	prefix := "2022-02-14T11:06:40.698Z\t" + rid + "\tINFO\t"
	at := mustTime(t, "2022-02-14T11:06:40.698Z")
	head := `FSMSG{"traceId":"1676026914-I-128-b6dc2f8847766b348e12745dcbc5d15f","time":1644836800698,"sourceFunction":"I","type":`
	for _, tc := range []struct {
		name, text string
		check      func(t *testing.T, l Line)
	}{
		{"init, string group", prefix + head + `"init","content":{"isRootInvocation":true,"isColdStart":false,"fusionGroup":"a_remote","memoryAvail":"128"}}`,
			func(t *testing.T, l Line) {
				want := fusionsim.InitContent{IsRootInvocation: true, FusionGroup: "a_remote", MemoryAvail: "128"}
				if l.Init != want {
					t.Errorf("init %+v, want %+v", l.Init, want)
				}
			}},
		{"init, numeric group and memory", prefix + head + `"init","content":{"isRootInvocation":false,"isColdStart":true,"fusionGroup":1676026914,"memoryAvail":1650}}`,
			func(t *testing.T, l Line) {
				want := fusionsim.InitContent{IsColdStart: true, FusionGroup: "1676026914", MemoryAvail: "1650"}
				if l.Init != want {
					t.Errorf("init %+v, want %+v", l.Init, want)
				}
			}},
		{"call", prefix + head + `"call","content":{"local":false,"sync":true,"caller":"I","called":"CW","time":74}}`,
			func(t *testing.T, l Line) {
				want := fusionsim.Call{Sync: true, Caller: "I", Called: "CW", Time: 74}
				if l.Call != want {
					t.Errorf("call %+v, want %+v", l.Call, want)
				}
			}},
		{"time-base", prefix + head + `"time-base","content":{"ms":261}}`,
			func(t *testing.T, l Line) {
				if l.Ms != 261 {
					t.Errorf("ms %d, want 261", l.Ms)
				}
			}},
		{"unknown type kept", prefix + head + `"something-new","content":[1,2]}`,
			func(t *testing.T, l Line) {
				if l.Msg.Type != "something-new" || string(l.Msg.Content) != "[1,2]" {
					t.Errorf("msg %+v", l.Msg)
				}
			}},
		{"export prefix", "2022-02-14T11:06:40.699Z " + prefix + head + `"time-base","content":{"ms":1}}`,
			func(t *testing.T, l Line) {
				if l.Ms != 1 || !l.Time.Equal(at) {
					t.Errorf("ms %d time %v: want the runtime prefix's time %v", l.Ms, l.Time, at)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseLine(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if l.Kind != Message || l.RequestID != rid || l.Level != "INFO" || !l.Time.Equal(at) {
				t.Errorf("got kind %v id %q level %q time %v", l.Kind, l.RequestID, l.Level, l.Time)
			}
			if l.Msg.TraceID != "1676026914-I-128-b6dc2f8847766b348e12745dcbc5d15f" || l.Msg.Time != 1644836800698 || l.Msg.SourceFunction != "I" {
				t.Errorf("message %+v", l.Msg)
			}
			tc.check(t, l)
		})
	}
}

func TestParseLineExportPrefix(t *testing.T) {
	for _, tc := range []struct {
		text string
		kind Kind
		at   string
	}{
		{"2023-02-10T09:00:00.416Z END RequestId: " + rid, End, "2023-02-10T09:00:00.416Z"},
		{"2023-02-10T09:00:00.416Z\tSTART RequestId: " + rid + " Version: $LATEST", Start, "2023-02-10T09:00:00.416Z"},
		{"2023-02-10T09:00:00.416000+00:00 2023/02/10/[$LATEST]0a1b2c3d REPORT RequestId: " + rid + "\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB", Report, "2023-02-10T09:00:00.416Z"},
	} {
		l, err := ParseLine(tc.text)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if l.Kind != tc.kind || l.RequestID != rid || !l.Time.Equal(mustTime(t, tc.at)) {
			t.Errorf("%q: got kind %v id %q time %v", tc.text, l.Kind, l.RequestID, l.Time)
		}
	}
}

func TestParseLineForeign(t *testing.T) {
	for _, text := range []string{
		"",
		"hello world",
		"STARTING the server",
		"ENDPOINT ready",
		"REPORTER: done",
		"2023-02-10T09:00:00.416Z reading sensor 42",
		"2023-02-10T09:00:00.416Z\t" + rid + "\tTask timed out after 3.00 seconds",
		"2023-02-10T09:00:00.416Z\t" + rid + "\tINFO\treading sensor 42",
		"2023-02-10T09:00:00.416Z\t" + rid + "\tERROR\tInvoke Error \t{\"errorType\":\"Error\"}",
		"2023-02-10T09:00:00.416Z\t" + rid + "\tINFO\tThe FSMSG marker later in a line",
		"    at Runtime.handler (/var/task/index.js:42:11)",
		"INIT_START Runtime Version: nodejs:16.v9\tRuntime Version ARN: arn:aws:lambda:eu-central-1::runtime:abc",
	} {
		l, err := ParseLine(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if l.Kind != Foreign {
			t.Errorf("%q: kind %v, want foreign", text, l.Kind)
		}
	}
}

func TestParseLineMalformed(t *testing.T) {
	prefix := "2022-02-14T11:06:40.698Z\t" + rid + "\tINFO\t"
	for _, text := range []string{
		"START RequestId: ",
		"START RequestId:" + rid,
		"START RequestId: " + rid + " Version:",
		"END RequestId: ",
		"END RequestId: a b",
		"REPORT RequestId: " + rid,
		"REPORT RequestId: " + rid + "\tDuration: 48.73 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB",
		"REPORT RequestId: " + rid + "\tDuration: x ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB",
		"REPORT RequestId: " + rid + "\tDuration: -1.00 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB",
		"REPORT RequestId: " + rid + "\tDuration: 1e3 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB",
		"REPORT RequestId: " + rid + "\tDuration: 1.00 ms\tBilled Duration: 49.5 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB",
		"REPORT RequestId: " + rid + "\tDuration: 1.00 ms\tBilled Duration: 49 ms\tMemory Size: 128 GB\tMax Memory Used: 55 MB",
		"REPORT RequestId: " + rid + "\tDuration: 1.00 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB\tgarbage",
		"REPORT RequestId: " + rid + "\tDuration: 1.00 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\tMax Memory Used: 55 MB\tError Type: X",
		prefix + "FSMSG",
		prefix + "FSMSG{",
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"init","content":{}}}`,
		prefix + `FSMSG{"time":1,"sourceFunction":"A","type":"init","content":{"fusionGroup":"x"}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","content":{}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1.5,"sourceFunction":"A","type":"time-base","content":{"ms":1}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":-1,"sourceFunction":"A","type":"time-base","content":{"ms":1}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"time-base","content":{}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"time-base","content":"1"}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"call","content":{"caller":"A"}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"init","content":{"isRootInvocation":"yes","fusionGroup":"x"}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"init","content":{"memoryAvail":"128"}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","sourceFunction":"A","type":"x","content":{}}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"x"}`,
		prefix + `FSMSG{"traceId":"t-A-128-0","time":1,"sourceFunction":"A","type":"x","content":null}`,
	} {
		l, err := ParseLine(text)
		if err == nil {
			t.Errorf("%q: no error, got %+v", text, l)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: error %v does not wrap ErrMalformed", text, err)
		}
	}
}

// TestParseLineRoundTrip parses what the root package's writers (used by the
// emulator) produce.
func TestParseLineRoundTrip(t *testing.T) {
	at := time.Date(2023, 2, 1, 0, 0, 1, 234567890, time.UTC)
	rep := fusionsim.Report{RequestID: rid, Duration: 1234570 * time.Microsecond, BilledMs: 1235, MemoryMB: 1650,
		MaxMemoryUsedMB: 99, InitDuration: 456780 * time.Microsecond, Status: "error", ErrorType: "Runtime.OutOfMemory"}
	l, err := ParseLine(string(fusionsim.AppendReport(nil, rep)))
	if err != nil || l.Report != rep {
		t.Errorf("report: %v\n got %+v\nwant %+v", err, l.Report, rep)
	}
	c := fusionsim.Call{Local: true, Sync: false, Caller: "CA", Called: "DJ", Time: 4261}
	b := fusionsim.AppendLinePrefix(nil, at, rid, "INFO")
	b = fusionsim.AppendMessageHead(b, "1676026914-I-128-0123", at.UnixMilli(), "CA", fusionsim.MsgCall)
	b = append(fusionsim.AppendCall(b, c), '}')
	l, err = ParseLine(string(b))
	if err != nil || l.Call != c || l.Msg.Time != at.UnixMilli() || !l.Time.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("call: %v: got %+v", err, l)
	}
}

// TestParseLineNonCanonical: FSMSG JSON written otherwise than the emulator
// writes it (spaces, other key order, escapes, a numeric group) parses to
// the same values as the canonical form.
func TestParseLineNonCanonical(t *testing.T) {
	prefix := "2022-02-14T11:06:40.698Z\t" + rid + "\tINFO\tFSMSG"
	for _, pair := range [][2]string{
		{`{"traceId":"1-I-128-ab","time":5,"sourceFunction":"I","type":"init","content":{"isRootInvocation":true,"isColdStart":false,"fusionGroup":"1","memoryAvail":"128"}}`,
			`{ "type": "init", "time": 5, "traceId": "1-I-128-\u0061b", "sourceFunction": "I", "content": { "memoryAvail": 128, "fusionGroup": 1, "isColdStart": false, "isRootInvocation": true } }`},
		{`{"traceId":"t","time":7,"sourceFunction":"CA","type":"call","content":{"local":false,"sync":true,"caller":"CA","called":"DJ","time":4261}}`,
			`{"content":{"called":"DJ","caller":"CA","time":4261,"sync":true,"local":false},"type":"call","sourceFunction":"CA","time":7,"traceId":"t"}`},
		{`{"traceId":"t","time":7,"sourceFunction":"A","type":"time-base","content":{"ms":12}}`,
			`{"traceId":"t","time":7,"sourceFunction":"A","type":"time-base","content":{"ms":12.0}}`},
	} {
		a, err := ParseLine(prefix + pair[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseLine(prefix + pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if a.Msg.TraceID != b.Msg.TraceID || a.Msg.Time != b.Msg.Time || a.Msg.Type != b.Msg.Type || a.Msg.SourceFunction != b.Msg.SourceFunction ||
			a.Init != b.Init || a.Call != b.Call || a.Ms != b.Ms {
			t.Errorf("canonical %+v\nother     %+v", a, b)
		}
	}
}
