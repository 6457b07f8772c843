package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// LogGroup is the log group of a Lambda function.
func LogGroup(function string) string { return "/aws/lambda/" + function }

// controlPattern selects the START and REPORT lines (a CloudWatch Logs filter
// pattern).
const controlPattern = `?"START RequestId:" ?"REPORT RequestId:"`

// ceilMs is the first whole millisecond at or after t.
func ceilMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// events reads the events of function's log group in [from, to) (to zero:
// no end) matching pattern, every page. A missing log group (a function that
// never ran) has no events.
func (p *Platform) events(ctx context.Context, function string, from, to time.Time, pattern string, fn func(cwtypes.FilteredLogEvent) error) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: ptr(LogGroup(function)),
		StartTime:    ptr(ceilMs(from)),
	}
	if !to.IsZero() {
		in.EndTime = ptr(ceilMs(to) - 1) // EndTime is inclusive
	}
	if pattern != "" {
		in.FilterPattern = &pattern
	}
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(p.cl.logs, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		var nf *cwtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading log group %s: %w", LogGroup(function), err)
		}
		for _, ev := range out.Events {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// openInvocations counts the invocations started since from in the
// functions of the current deployment and those of them without REPORT.
// (Other functions get no request from this deployment; reading only these
// keeps within the low request rate FilterLogEvents allows.)
func (p *Platform) openInvocations(ctx context.Context, from time.Time) (started, open int, err error) {
	p.mu.Lock()
	ids := sortedIDs(p.current)
	p.mu.Unlock()
	for _, id := range ids {
		name := handler.FunctionName(p.cfg.Prefix, id)
		starts, reports := map[string]bool{}, map[string]bool{}
		err := p.events(ctx, name, from, time.Time{}, controlPattern, func(ev cwtypes.FilteredLogEvent) error {
			msg := deref(ev.Message)
			if id, ok := requestIDAfter(msg, "START RequestId: "); ok {
				starts[id] = true
			} else if id, ok := requestIDAfter(msg, "REPORT RequestId: "); ok {
				reports[id] = true
			}
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
		started += len(starts)
		for id := range starts {
			if !reports[id] {
				open++
			}
		}
	}
	return started, open, nil
}

// requestIDAfter reads the request id that follows prefix at the start of
// a control line.
func requestIDAfter(msg, prefix string) (string, bool) {
	i := strings.Index(msg, prefix)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(prefix):]
	end := strings.IndexAny(rest, " \t\r\n")
	if end < 0 {
		end = len(rest)
	}
	return rest[:end], end > 0
}

// Logs calls fn with every log line the deployment's functions wrote in
// [from, to): function by function in name order, each function's lines in
// time order.
func (p *Platform) Logs(ctx context.Context, from, to time.Time, fn func(fusionsim.LogLine) error) error {
	for _, name := range p.FunctionNames() {
		var lines []fusionsim.LogLine
		err := p.events(ctx, name, from, to, "", func(ev cwtypes.FilteredLogEvent) error {
			lines = append(lines, fusionsim.LogLine{
				Function: name,
				Time:     time.UnixMilli(deref(ev.Timestamp)),
				Text:     strings.TrimRight(deref(ev.Message), "\r\n"),
			})
			return nil
		})
		if err != nil {
			return err
		}
		// Pages hold the log streams interleaved by time; keep each
		// stream's order among lines of the same millisecond.
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
		for _, l := range lines {
			if err := fn(l); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
