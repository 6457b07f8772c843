package trace

import (
	"encoding/json"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// parseCanonical decodes an FSMSG payload written exactly as the emulator
// (and the prototype's JSON.stringify) writes it: keys in their order, no
// white space, strings of printable ASCII without escapes, integers. It
// reports false for anything else, and parseMessage falls back to
// encoding/json; both give the same Line (FuzzParseLine checks it). It makes
// extraction several times faster.
func parseCanonical(l *Line, p string) bool {
	c := cursor{s: p, ok: true}
	var m fusionsim.Message
	c.lit(`{"traceId":`)
	m.TraceID = c.str()
	c.lit(`,"time":`)
	m.Time = c.int()
	c.lit(`,"sourceFunction":`)
	m.SourceFunction = c.str()
	c.lit(`,"type":`)
	m.Type = c.str()
	c.lit(`,"content":`)
	start := c.i
	switch m.Type {
	case fusionsim.MsgInit:
		c.lit(`{"isRootInvocation":`)
		l.Init.IsRootInvocation = c.bool()
		c.lit(`,"isColdStart":`)
		l.Init.IsColdStart = c.bool()
		c.lit(`,"fusionGroup":`)
		l.Init.FusionGroup = c.str()
		c.lit(`,"memoryAvail":`)
		l.Init.MemoryAvail = c.str()
		c.lit(`}`)
		c.ok = c.ok && l.Init.FusionGroup != ""
	case fusionsim.MsgCall:
		c.lit(`{"local":`)
		l.Call.Local = c.bool()
		c.lit(`,"sync":`)
		l.Call.Sync = c.bool()
		c.lit(`,"caller":`)
		l.Call.Caller = c.str()
		c.lit(`,"called":`)
		l.Call.Called = c.str()
		c.lit(`,"time":`)
		l.Call.Time = c.int()
		c.lit(`}`)
		c.ok = c.ok && l.Call.Caller != "" && l.Call.Called != ""
	case fusionsim.MsgTimeBase, fusionsim.MsgColdstartToEvent, fusionsim.MsgEventStartToInvokeLocal, fusionsim.MsgOverheadEvent:
		c.lit(`{"ms":`)
		l.Ms = c.int()
		c.lit(`}`)
		c.ok = c.ok && l.Ms > -maxMs && l.Ms < maxMs
	default:
		return false
	}
	end := c.i
	c.lit(`}`)
	if !c.ok || c.i != len(p) || m.TraceID == "" || m.Time < 0 || m.Time > maxUnixMs {
		l.Init, l.Call, l.Ms = fusionsim.InitContent{}, fusionsim.Call{}, 0
		return false
	}
	m.Content = json.RawMessage(p[start:end])
	l.Msg = m
	return true
}

// cursor reads a canonical JSON text; ok turns false at the first surprise.
type cursor struct {
	s  string
	i  int
	ok bool
}

func (c *cursor) lit(p string) {
	if c.ok && strings.HasPrefix(c.s[c.i:], p) {
		c.i += len(p)
		return
	}
	c.ok = false
}

// str reads a string of printable ASCII without escapes.
func (c *cursor) str() string {
	if !c.ok || c.i >= len(c.s) || c.s[c.i] != '"' {
		c.ok = false
		return ""
	}
	for j := c.i + 1; j < len(c.s); j++ {
		switch b := c.s[j]; {
		case b == '"':
			v := c.s[c.i+1 : j]
			c.i = j + 1
			return v
		case b < 0x20 || b > 0x7e || b == '\\':
			c.ok = false
			return ""
		}
	}
	c.ok = false
	return ""
}

// int reads an integer as JSON writes it (no leading zeros), up to 18
// digits.
func (c *cursor) int() int64 {
	if !c.ok {
		return 0
	}
	j, neg := c.i, false
	if j < len(c.s) && c.s[j] == '-' {
		neg = true
		j++
	}
	start := j
	var v int64
	for j < len(c.s) && c.s[j] >= '0' && c.s[j] <= '9' {
		v = v*10 + int64(c.s[j]-'0')
		j++
	}
	n := j - start
	if n == 0 || n > 18 || (n > 1 && c.s[start] == '0') || (j < len(c.s) && (c.s[j] == '.' || c.s[j] == 'e' || c.s[j] == 'E')) {
		c.ok = false
		return 0
	}
	c.i = j
	if neg {
		return -v
	}
	return v
}

func (c *cursor) bool() bool {
	switch {
	case !c.ok:
	case strings.HasPrefix(c.s[c.i:], "true"):
		c.i += 4
		return true
	case strings.HasPrefix(c.s[c.i:], "false"):
		c.i += 5
		return false
	default:
		c.ok = false
	}
	return false
}
