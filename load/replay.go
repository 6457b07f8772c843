package load

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fusionsim/fusionsim"
)

// Replay reads arrival times from CSV text, one request per line; the first
// field of a line is its time and further fields are ignored. A time is
//
//   - an offset from the start of the run: a number of seconds ("0.25") or a
//     Go duration ("250ms", "1m30s");
//   - or an absolute time: RFC 3339 ("2023-02-14T11:06:40.698Z") or Unix
//     epoch milliseconds (a whole number from 10^12 on, i.e. after
//     September 2001). Absolute times become offsets from the first line's
//     time.
//
// All lines use one of the two forms. Times must not decrease. Empty lines
// and lines starting with '#' are skipped, and so is a header: a first line
// whose first field starts with a letter ("timestamp", "offset_s,route").
// Any other line that holds no time is an error, the first one included.
// Errors name the line. name is what errors call the input (a file name).
func Replay(r io.Reader, name string) ([]fusionsim.Arrival, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []fusionsim.Arrival
	var origin time.Time
	absolute := -1 // unknown yet; 0: offsets, 1: absolute times
	var prev time.Duration
	firstData := true
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // a byte order mark
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field, _, _ := strings.Cut(line, ",")
		field = strings.Trim(strings.TrimSpace(field), `"`)
		at, abs, err := parseTime(field)
		if err != nil {
			if firstData && isHeader(field) {
				firstData = false
				continue
			}
			return nil, fmt.Errorf("%w: %s:%d: %q: %v", ErrBadLoad, name, lineNo, field, err)
		}
		firstData = false
		kind := 0
		if abs != nil {
			kind = 1
		}
		switch {
		case absolute == -1:
			absolute = kind
			if abs != nil {
				origin = *abs
			}
		case absolute != kind:
			return nil, fmt.Errorf("%w: %s:%d: %q: mixes absolute times and offsets (the first time was %s)", ErrBadLoad, name, lineNo, field, map[int]string{0: "an offset", 1: "absolute"}[absolute])
		}
		if abs != nil {
			at = abs.Sub(origin)
			if at > maxOffset {
				return nil, fmt.Errorf("%w: %s:%d: %q: more than %v after the first time", ErrBadLoad, name, lineNo, field, maxOffset)
			}
		}
		if at < 0 {
			return nil, fmt.Errorf("%w: %s:%d: %q: time before the start of the run", ErrBadLoad, name, lineNo, field)
		}
		if at < prev {
			return nil, fmt.Errorf("%w: %s:%d: %q: earlier than the line before (times must not decrease)", ErrBadLoad, name, lineNo, field)
		}
		prev = at
		out = append(out, fusionsim.Arrival{At: at})
		if len(out) > MaxRequests {
			return nil, fmt.Errorf("%w: %s: more than %d requests", ErrBadLoad, name, MaxRequests)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no arrival times", ErrBadLoad, name)
	}
	return out, nil
}

// isHeader reports whether the first field of a first line names a column:
// it starts with a letter (times start with a digit, a sign or a point).
func isHeader(field string) bool {
	return field != "" && (field[0] >= 'a' && field[0] <= 'z' || field[0] >= 'A' && field[0] <= 'Z')
}

// epochMsFrom is the smallest number read as Unix epoch milliseconds.
const epochMsFrom = 1e12

// parseTime reads one time: an offset (abs nil) or an absolute time.
func parseTime(s string) (offset time.Duration, abs *time.Time, err error) {
	if s == "" {
		return 0, nil, fmt.Errorf("empty time")
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, nil, fmt.Errorf("not a time")
		}
		if v >= epochMsFrom {
			if v != math.Trunc(v) {
				return 0, nil, fmt.Errorf("epoch milliseconds must be whole")
			}
			t := time.UnixMilli(int64(v)).UTC()
			return 0, &t, nil
		}
		if math.Abs(v) > maxOffset.Seconds() {
			return 0, nil, fmt.Errorf("%v s is beyond %v", v, maxOffset)
		}
		return time.Duration(math.Round(v * 1e9)), nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return 0, &t, nil
	}
	return 0, nil, fmt.Errorf("neither seconds, a duration (250ms), epoch milliseconds nor an RFC 3339 time")
}

// ReplayFile reads arrival times from a CSV file; see Replay.
func ReplayFile(path string) ([]fusionsim.Arrival, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Replay(f, path)
}
