package fusionsim

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultMemoryMB is the memory size of a function whose route names no size
// ("SYNC-I" instead of "SYNC-I-128"): the first memory size of the prototype's
// deployments, 128 MB in every published run.
const DefaultMemoryMB = 128

// Memory limits of AWS Lambda, in MB.
const (
	MinMemoryMB = 128
	MaxMemoryMB = 10240
)

// FunctionPrefix starts the name of every deployed function of the prototype.
const FunctionPrefix = "fusion-function-"

// syncPrefix starts the route of a synchronous call.
const syncPrefix = "SYNC-"

// FunctionID names one deployed function: its entry task and memory size.
type FunctionID struct {
	Task     string
	MemoryMB int
}

// Name is the deployed function name, e.g. "fusion-function-I-128".
func (f FunctionID) Name() string { return FunctionPrefix + f.Short() }

// Short is the name without the prefix, e.g. "I-128".
func (f FunctionID) Short() string { return f.Task + "-" + strconv.Itoa(f.MemoryMB) }

func (f FunctionID) String() string { return f.Short() }

// ParseFunctionName accepts "fusion-function-<TASK>-<MB>", "<TASK>-<MB>" and
// "<TASK>" (default memory size).
func ParseFunctionName(s string) (FunctionID, error) {
	s = strings.TrimPrefix(s, FunctionPrefix)
	task, mb, err := splitMemory(s)
	if err != nil {
		return FunctionID{}, fmt.Errorf("function name %q: %w", s, err)
	}
	if mb == 0 {
		mb = DefaultMemoryMB
	}
	return FunctionID{Task: task, MemoryMB: mb}, nil
}

// Route is the API route of a function as the prototype's rules and load tests
// wrote it: "SYNC-X-128" (sync, 128 MB), "SYNC-X" (sync, default size), "X-768"
// (async) or "X".
type Route struct {
	Task     string
	MemoryMB int  // 0 when the route names no size
	Sync     bool // the SYNC- prefix
}

// ParseRoute parses a route. A trailing "-<digits>" is the memory size.
func ParseRoute(s string) (Route, error) {
	var r Route
	rest := strings.TrimPrefix(strings.TrimPrefix(s, "/"), syncPrefix)
	r.Sync = len(rest) != len(strings.TrimPrefix(s, "/"))
	task, mb, err := splitMemory(rest)
	if err != nil {
		return Route{}, fmt.Errorf("route %q: %w", s, err)
	}
	r.Task, r.MemoryMB = task, mb
	return r, nil
}

// MustParseRoute is ParseRoute for literals known to be valid; it panics otherwise.
func MustParseRoute(s string) Route {
	r, err := ParseRoute(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Function is the function the route reaches; a route without a size reaches
// the default size.
func (r Route) Function() FunctionID {
	mb := r.MemoryMB
	if mb == 0 {
		mb = DefaultMemoryMB
	}
	return FunctionID{Task: r.Task, MemoryMB: mb}
}

func (r Route) String() string {
	s := r.Task
	if r.MemoryMB != 0 {
		s += "-" + strconv.Itoa(r.MemoryMB)
	}
	if r.Sync {
		s = syncPrefix + s
	}
	return s
}

// RouteTo is the route that reaches function f with the given call type.
func RouteTo(f FunctionID, sync bool) Route {
	return Route{Task: f.Task, MemoryMB: f.MemoryMB, Sync: sync}
}

func hasMemorySuffix(s string) bool {
	i := strings.LastIndexByte(s, '-')
	if i < 0 || i == len(s)-1 {
		return false
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitMemory splits "X-128" into ("X", 128) and "X" into ("X", 0).
func splitMemory(s string) (string, int, error) {
	if s == "" {
		return "", 0, fmt.Errorf("empty task name")
	}
	if !hasMemorySuffix(s) {
		if err := ValidateTaskName(s); err != nil {
			return "", 0, err
		}
		return s, 0, nil
	}
	i := strings.LastIndexByte(s, '-')
	mb, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("memory size %q: %w", s[i+1:], err)
	}
	if mb < MinMemoryMB || mb > MaxMemoryMB {
		return "", 0, fmt.Errorf("memory size %d MB is outside %d..%d MB", mb, MinMemoryMB, MaxMemoryMB)
	}
	if err := ValidateTaskName(s[:i]); err != nil {
		return "", 0, err
	}
	return s[:i], mb, nil
}

// ValidateTaskName accepts names made of letters, digits and underscores, the
// characters the prototype's task names use. Dashes are reserved: they separate
// the memory size in routes and the parts of trace ids.
func ValidateTaskName(name string) error {
	if name == "" {
		return fmt.Errorf("empty task name")
	}
	for _, c := range name {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("task name %q: character %q not allowed (letters, digits, _)", name, c)
		}
	}
	return nil
}

// FormatRequestID formats 16 random bytes as a version-4 UUID, the form of
// Lambda's request ids (the version and variant bits are set here).
func FormatRequestID(b [16]byte) string { return string(AppendRequestID(nil, b)) }

// AppendRequestID appends FormatRequestID(b) to dst.
func AppendRequestID(dst []byte, b [16]byte) []byte {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[v>>4], hex[v&0xf])
	}
	return dst
}
