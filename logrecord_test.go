package fusionsim

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestLineFormatterMessages: FSMSG lines from one formatter, with its
// remembered strings and seconds, equal those made field by field
// (AppendLinePrefix, AppendMessageHead, the contents), for strings that
// need escaping and strings that do not, the same string again, times
// around whole seconds and below one second.
func TestLineFormatterMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	strs := []string{"1675209600-I-128-0e672cee03b52e0bc53467fc1f1bcb62", "AS", "call", MsgInit, "quo\"te", "tab\there", "ünïcödé", "\u2028", "", "x\x01y"}
	times := []int64{0, 999, 1000, 1001, 1675209600000, 1675209600999, 1675209601000, -1, -1000}
	var f LineFormatter
	for i := 0; i < 5000; i++ {
		r := &LogRecord{Kind: LogMessage, Function: "fusion-function-I-128", RequestID: "0e9387b7-a2f5-44c2-a877-3c6028d2ba41",
			TraceID: strs[rng.IntN(len(strs))], Source: strs[rng.IntN(len(strs))], Ms: rng.Int64N(5000)}
		ms := times[rng.IntN(len(times))] + rng.Int64N(3)
		r.Time = ms*1e6 + rng.Int64N(1e6)
		switch rng.IntN(3) {
		case 0:
			r.Type = MsgInit
			r.Init = InitContent{IsRootInvocation: rng.IntN(2) == 0, FusionGroup: strs[rng.IntN(len(strs))], MemoryAvail: "128"}
		case 1:
			r.Type = MsgCall
			r.Call = Call{Caller: strs[rng.IntN(len(strs))], Called: "CW", Time: rng.Int64N(100)}
		default:
			r.Type = strs[rng.IntN(len(strs))]
		}
		want := AppendLinePrefix(nil, time.Unix(0, r.Time), r.RequestID, "INFO")
		want = AppendMessageHead(want, r.TraceID, r.MessageMs(), r.Source, r.Type)
		switch r.Type {
		case MsgInit:
			want = AppendInitContent(want, r.Init)
		case MsgCall:
			want = AppendCall(want, r.Call)
		default:
			want = AppendMsContent(want, r.Ms)
		}
		want = append(want, '}')
		if got := f.Append(nil, r); string(got) != string(want) {
			t.Fatalf("record %d: %q, want %q", i, got, want)
		}
	}
}
