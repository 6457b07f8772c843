package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/fusionsim/fusionsim"
)

// Handler is the fusion handler of one function. Its Invoke method is an
// aws-lambda-go lambda.Handler. It is safe for concurrent use, though Lambda
// sends one event at a time.
type Handler struct {
	cfg       Config
	invoker   Invoker
	tables    Tables
	out       *lineWriter
	initStart time.Time
	served    atomic.Int64 // invocations started by this process
	now       func() time.Time
}

// Options are the parts of a Handler that tests replace.
type Options struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// New makes the handler of cfg. Remote calls go through invoker, storage
// through store, log lines to out (os.Stdout on Lambda). initStart is when
// the process started, for the first event's cold-start overhead.
func New(cfg Config, invoker Invoker, store Store, out io.Writer, initStart time.Time, opt Options) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxCallDepth == 0 {
		cfg.MaxCallDepth = DefaultMaxCallDepth
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Handler{
		cfg: cfg, invoker: invoker, tables: Tables{DB: store, Prefix: cfg.Prefix},
		out: &lineWriter{w: out}, initStart: initStart, now: opt.Now,
	}, nil
}

// Config returns the handler's configuration.
func (h *Handler) Config() Config { return h.cfg }

// Invoke handles one event: a client request (a plain JSON event) or a call
// from another fusion function (an Envelope). It returns the entry task's
// result as JSON, or a messages.InvokeResponse_Error whose errorType is the
// one the emulator reports.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	t0 := h.now()
	inv := &invocation{h: h, ctx: ctx, cold: h.served.Add(1) == 1}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.requestID = lc.AwsRequestID
	}
	ev, call, perr := ParsePayload(payload)
	depth := 1
	if call != nil {
		inv.traceID, depth = call.TraceID, call.Depth
	} else {
		inv.root = true
		inv.traceID = h.cfg.Setup + "-" + h.cfg.Entry + "-" + strconv.Itoa(h.cfg.MemoryMB) + "-" + newHex32()
	}
	inv.logInit()
	if inv.cold {
		inv.logMs(fusionsim.MsgColdstartToEvent, msBetween(h.initStart, t0))
	}
	inv.logMs(fusionsim.MsgEventStartToInvokeLocal, msBetween(t0, h.now()))

	t1 := h.now()
	var res fusionsim.Event
	err := perr
	if err == nil {
		entry := &taskCtx{inv: inv, task: h.cfg.Entry, depth: depth, rng: newRand()}
		res, err = entry.run(h.cfg.Entry, ev)
	}
	inv.logCall(fusionsim.Call{Local: true, Sync: true, Caller: h.cfg.Entry, Called: h.cfg.Entry, Time: msBetween(t1, h.now())})
	inv.calls.Wait() // the prototype awaited every promise before returning
	if err == nil {
		err = inv.asyncError()
	}
	timeBase := msBetween(t0, h.now())
	inv.logMs(fusionsim.MsgTimeBase, timeBase)
	inv.tails.Wait()
	inv.logMs(fusionsim.MsgOverheadEvent, msBetween(t0, h.now())-timeBase)
	if err != nil {
		inv.logError(err)
		return nil, messages.InvokeResponse_Error{Type: ErrorType(err), Message: err.Error()}
	}
	if res == nil {
		return []byte("null"), nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: "Error", Message: fmt.Sprintf("result of %s: %v", h.cfg.Entry, err)}
	}
	return b, nil
}

// invocation is one event being handled.
type invocation struct {
	h         *Handler
	ctx       context.Context
	requestID string
	traceID   string
	root      bool
	cold      bool

	calls sync.WaitGroup // local goroutines and remote calls in flight
	tails sync.WaitGroup // CPU work going on after its task returned

	mu       sync.Mutex
	asyncErr error // first error of a local async call
}

func (inv *invocation) setAsyncError(err error) {
	inv.mu.Lock()
	if inv.asyncErr == nil {
		inv.asyncErr = err
	}
	inv.mu.Unlock()
}

func (inv *invocation) asyncError() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.asyncErr
}

// msOf reads t as Date.now() would: milliseconds since the epoch.
func msOf(t time.Time) int64 { return t.UnixMilli() }

// msBetween is the difference of two millisecond clock readings, the way the
// prototype measured every duration it logged.
func msBetween(from, to time.Time) int64 { return msOf(to) - msOf(from) }

// head starts an FSMSG line at time t.
func (inv *invocation) head(t time.Time, typ string) []byte {
	b := make([]byte, 0, 256)
	b = fusionsim.AppendLinePrefix(b, t, inv.requestID, "INFO")
	return fusionsim.AppendMessageHead(b, inv.traceID, msOf(t), inv.h.cfg.Entry, typ)
}

func (inv *invocation) logInit() {
	b := inv.head(inv.h.now(), fusionsim.MsgInit)
	b = fusionsim.AppendInitContent(b, fusionsim.InitContent{
		IsRootInvocation: inv.root, IsColdStart: inv.cold, FusionGroup: inv.h.cfg.Setup,
		MemoryAvail: strconv.Itoa(inv.h.cfg.MemoryMB),
	})
	inv.h.out.line(append(b, '}'))
}

func (inv *invocation) logMs(typ string, ms int64) {
	b := fusionsim.AppendMsContent(inv.head(inv.h.now(), typ), ms)
	inv.h.out.line(append(b, '}'))
}

func (inv *invocation) logCall(c fusionsim.Call) {
	b := fusionsim.AppendCall(inv.head(inv.h.now(), fusionsim.MsgCall), c)
	inv.h.out.line(append(b, '}'))
}

// logInfo writes a line of the task's own output (console.log).
func (inv *invocation) logInfo(msg string) {
	b := fusionsim.AppendLinePrefix(make([]byte, 0, 64+len(msg)), inv.h.now(), inv.requestID, "INFO")
	inv.h.out.line(append(b, msg...))
}

// logError writes the invocation's error, as the Node.js runtime's "Invoke
// Error" line did.
func (inv *invocation) logError(err error) {
	b := fusionsim.AppendLinePrefix(make([]byte, 0, 256), inv.h.now(), inv.requestID, "ERROR")
	b = append(b, "Invoke Error \t{\"errorType\":"...)
	b = fusionsim.AppendJSONString(b, ErrorType(err))
	b = append(b, ",\"errorMessage\":"...)
	b = fusionsim.AppendJSONString(b, err.Error())
	inv.h.out.line(append(b, '}'))
}

// lineWriter writes whole lines, one write each, so that lines written by
// parallel goroutines never interleave.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(b []byte) {
	b = append(b, '\n')
	l.mu.Lock()
	l.w.Write(b)
	l.mu.Unlock()
}

// newHex32 draws the 32 hex digits of a trace id.
func newHex32() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// errPanic wraps a task's panic.
var errPanic = errors.New("panicked")
