package awsstandin

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// logsTargetPrefix starts the X-Amz-Target of CloudWatch Logs operations.
const logsTargetPrefix = "Logs_20140328."

const logsContentType = "application/x-amz-json-1.1"

// logGroup is the log group of a function: it outlives the function, as on
// AWS, until DeleteLogGroup.
type logGroup struct {
	id      fusionsim.FunctionID
	created time.Time
	// hiddenBefore hides the lines written before the group was last
	// deleted (the backend's logs are never removed).
	hiddenBefore time.Time
}

// LogGroupName is the log group of a Lambda function.
func LogGroupName(function string) string { return "/aws/lambda/" + function }

// registerGroup notes the log group of a created function (under s.mu).
func (s *Server) registerGroup(c FunctionConfiguration) {
	id, err := functionID(c)
	if err != nil {
		return
	}
	name := LogGroupName(c.FunctionName)
	if g, ok := s.groups[name]; ok {
		g.id = id
		return
	}
	s.groups[name] = &logGroup{id: id, created: s.cfg.Now()}
}

func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, op string) {
	s.count("logs." + op)
	switch op {
	case "FilterLogEvents":
		s.filterLogEvents(w, r)
	case "DescribeLogGroups":
		s.describeLogGroups(w, r)
	case "DeleteLogGroup":
		s.deleteLogGroup(w, r)
	default:
		logsError(w, http.StatusBadRequest, "UnknownOperationException", "the AWS stand-in has no CloudWatch Logs operation "+op)
	}
}

func logsError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSONError(w, logsContentType, status, typ, msg, false)
}

// groupLines returns the visible lines of a group, or false when the group
// does not exist (never written, or deleted since its last line).
func (s *Server) groupLines(ctx context.Context, name string) ([]LogEvent, *logGroup, bool, error) {
	s.mu.Lock()
	g, ok := s.groups[name]
	var gc logGroup
	if ok {
		gc = *g
	}
	s.mu.Unlock()
	if !ok || s.cfg.Backend == nil {
		return nil, nil, false, nil
	}
	evs, err := s.cfg.Backend.Logs(ctx, gc.id)
	if err != nil {
		return nil, nil, false, err
	}
	if !gc.hiddenBefore.IsZero() {
		i := sort.Search(len(evs), func(i int) bool { return !evs[i].Time.Before(gc.hiddenBefore) })
		evs = evs[i:]
	}
	if len(evs) == 0 {
		return nil, nil, false, nil
	}
	return evs, &gc, true, nil
}

type filterInput struct {
	LogGroupName       string   `json:"logGroupName"`
	LogGroupIdentifier string   `json:"logGroupIdentifier"`
	LogStreamNames     []string `json:"logStreamNames"`
	StartTime          *int64   `json:"startTime"`
	EndTime            *int64   `json:"endTime"`
	FilterPattern      string   `json:"filterPattern"`
	NextToken          string   `json:"nextToken"`
	Limit              int      `json:"limit"`
}

// OutputLogEvent is an event of FilterLogEvents.
type OutputLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// streamName is the one log stream the stand-in gives a group, in Lambda's
// format "2023/02/10/[$LATEST]<32 hex>".
func streamName(group string, created time.Time) string {
	h := fnv.New128a()
	h.Write([]byte(group))
	return created.UTC().Format("2006/01/02") + "/[$LATEST]" + fmt.Sprintf("%x", h.Sum(nil))
}

func (s *Server) filterLogEvents(w http.ResponseWriter, r *http.Request) {
	var in filterInput
	if err := readJSON(r, &in); err != nil {
		logsError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	name := in.LogGroupName
	if name == "" {
		name = in.LogGroupIdentifier
	}
	if name == "" {
		logsError(w, http.StatusBadRequest, "InvalidParameterException", "logGroupName or logGroupIdentifier is required")
		return
	}
	pat, err := parseFilterPattern(in.FilterPattern)
	if err != nil {
		logsError(w, http.StatusBadRequest, "InvalidParameterException", err.Error())
		return
	}
	limit := s.cfg.LogPageSize
	if in.Limit > 0 && in.Limit < limit {
		limit = in.Limit
	}
	offset := 0
	if in.NextToken != "" {
		if offset, err = strconv.Atoi(strings.TrimPrefix(in.NextToken, "standin/")); err != nil || offset < 0 {
			logsError(w, http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf("nextToken %q is not a token of this stand-in", in.NextToken))
			return
		}
	}
	evs, g, ok, err := s.groupLines(r.Context(), name)
	if err != nil {
		logsError(w, http.StatusInternalServerError, "ServiceUnavailableException", err.Error())
		return
	}
	if !ok {
		logsError(w, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	stream := streamName(name, g.created)
	if len(in.LogStreamNames) > 0 && !contains(in.LogStreamNames, stream) {
		evs = nil
	}
	var matched []OutputLogEvent
	for i, ev := range evs {
		ms := ev.Time.UnixMilli()
		if (in.StartTime != nil && ms < *in.StartTime) || (in.EndTime != nil && ms > *in.EndTime) || !pat.match(ev.Message) {
			continue
		}
		matched = append(matched, OutputLogEvent{
			LogStreamName: stream, Timestamp: ms, Message: ev.Message + "\n", IngestionTime: ms,
			EventID: strconv.Itoa(i),
		})
	}
	out := map[string]any{"searchedLogStreams": []map[string]any{{"logStreamName": stream, "searchedCompletely": true}}}
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:]
	if len(page) > limit {
		page = page[:limit]
		out["nextToken"] = "standin/" + strconv.Itoa(offset+limit)
	}
	if page == nil {
		page = []OutputLogEvent{}
	}
	out["events"] = page
	writeAWSJSON(w, logsContentType, http.StatusOK, out, false)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// filterPattern is the subset of CloudWatch Logs' filter pattern syntax for
// unstructured log events: terms (quoted when they hold other characters
// than letters and digits) that must all appear, "?term"s of which one must
// appear, and "-term"s that must not.
type filterPattern struct {
	all, any, none []string
}

func parseFilterPattern(p string) (filterPattern, error) {
	var fp filterPattern
	p = strings.TrimSpace(p)
	if p == "" {
		return fp, nil
	}
	if p[0] == '{' || p[0] == '[' || p[0] == '%' {
		return fp, fmt.Errorf("filterPattern %q: only term patterns are supported by the stand-in", p)
	}
	for p != "" {
		kind := byte(0)
		if p[0] == '?' || p[0] == '-' {
			kind, p = p[0], p[1:]
		}
		var term string
		if strings.HasPrefix(p, `"`) {
			end := strings.IndexByte(p[1:], '"')
			if end < 0 {
				return fp, fmt.Errorf("filterPattern: unterminated quote")
			}
			term, p = p[1:1+end], p[2+end:]
		} else {
			end := strings.IndexByte(p, ' ')
			if end < 0 {
				end = len(p)
			}
			term, p = p[:end], p[end:]
		}
		p = strings.TrimLeft(p, " ")
		switch kind {
		case '?':
			fp.any = append(fp.any, term)
		case '-':
			fp.none = append(fp.none, term)
		default:
			fp.all = append(fp.all, term)
		}
	}
	return fp, nil
}

func (fp filterPattern) match(msg string) bool {
	for _, t := range fp.all {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range fp.none {
		if strings.Contains(msg, t) {
			return false
		}
	}
	if len(fp.any) == 0 {
		return true
	}
	for _, t := range fp.any {
		if strings.Contains(msg, t) {
			return true
		}
	}
	return false
}

type describeGroupsInput struct {
	LogGroupNamePrefix string `json:"logGroupNamePrefix"`
	NextToken          string `json:"nextToken"`
	Limit              int    `json:"limit"`
}

func (s *Server) describeLogGroups(w http.ResponseWriter, r *http.Request) {
	var in describeGroupsInput
	if err := readJSON(r, &in); err != nil {
		logsError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	limit := 50
	if in.Limit > 0 && in.Limit < limit {
		limit = in.Limit
	}
	s.mu.Lock()
	var names []string
	for n := range s.groups {
		if strings.HasPrefix(n, in.LogGroupNamePrefix) && n > in.NextToken {
			names = append(names, n)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := map[string]any{}
	var groups []map[string]any
	for _, n := range names {
		evs, g, ok, err := s.groupLines(r.Context(), n)
		if err != nil {
			logsError(w, http.StatusInternalServerError, "ServiceUnavailableException", err.Error())
			return
		}
		if !ok {
			continue
		}
		if len(groups) == limit {
			out["nextToken"] = groups[len(groups)-1]["logGroupName"]
			break
		}
		size := 0
		for _, ev := range evs {
			size += len(ev.Message) + 1
		}
		groups = append(groups, map[string]any{
			"logGroupName": n, "arn": "arn:aws:logs:" + s.cfg.Region + ":" + s.cfg.Account + ":log-group:" + n + ":*",
			"creationTime": g.created.UnixMilli(), "storedBytes": size, "metricFilterCount": 0,
		})
	}
	if groups == nil {
		groups = []map[string]any{}
	}
	out["logGroups"] = groups
	writeAWSJSON(w, logsContentType, http.StatusOK, out, false)
}

func (s *Server) deleteLogGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := readJSON(r, &in); err != nil {
		logsError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	_, _, ok, err := s.groupLines(r.Context(), in.LogGroupName)
	if err != nil {
		logsError(w, http.StatusInternalServerError, "ServiceUnavailableException", err.Error())
		return
	}
	if !ok {
		logsError(w, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	s.mu.Lock()
	// Lines of the deleted group stay hidden; lines written from now on
	// (a function of that name invoked again) make it reappear.
	s.groups[in.LogGroupName].hiddenBefore = s.cfg.Now().Add(time.Millisecond).Truncate(time.Millisecond)
	s.mu.Unlock()
	writeAWSJSON(w, logsContentType, http.StatusOK, map[string]any{}, false)
}
