package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FormatName names fusionsim's results layout in the manifest's "format"
// field ("fusionsim-results/2"): a directory is replaced only when its
// manifest says this.
const FormatName = "fusionsim-results"

// IncompleteFile is the visible mark of a results directory whose run was
// interrupted or stopped by an error (manifest.complete is false too); it
// holds the reason.
const IncompleteFile = "INCOMPLETE"

// ErrIncomplete is returned by CheckComplete for a results directory of a
// run that did not finish.
var ErrIncomplete = errors.New("incomplete results directory")

// layoutEntries are the only entries a results directory holds at its top
// level; a directory with anything else is not replaced without --force.
// (A file or directory added to the layout must be added here.)
var layoutEntries = []string{
	ManifestFile, SummaryFile, SummaryFullFile, SummaryKindsFile, IncompleteFile,
	TracesDir, ResponsesDir, LogsDir, FiguresDir, "configuration",
}

// Format is the manifest's "format": FormatName "/" version. Manifests of
// layout 1 held the bare number 1; they read as Format "1".
type Format string

// CurrentFormat is the format Commit writes.
var CurrentFormat = Format(FormatName + "/" + strconv.Itoa(FormatVersion))

// UnmarshalJSON accepts a string or, for layout 1, a number.
func (f *Format) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = Format(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("format: %s is neither a string nor a number", b)
	}
	*f = Format(n.String())
	return nil
}

// Version is the layout version; fusionsim is false when the format does
// not name fusionsim (layout 1's bare number included: version 1, false).
func (f Format) Version() (version int, fusionsim bool) {
	if v, ok := strings.CutPrefix(string(f), FormatName+"/"); ok {
		n, err := strconv.Atoi(v)
		return n, err == nil && n > 0
	}
	if string(f) == "1" {
		return 1, false
	}
	return 0, false
}

// checkReplaceable accepts a missing dir, an empty one, and a directory
// fusionsim wrote: its manifest's format names fusionsim (FormatName) and
// nothing but the results layout's entries is in it. With force, anything
// is replaced. Errors wrap ErrNotResults and say what was found.
func checkReplaceable(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if force {
		return nil
	}
	if err != nil {
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return fmt.Errorf("%s exists and is a file: %w; choose another output directory (--force replaces it)", dir, ErrNotResults)
		}
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("%s exists and %s: %w written by fusionsim, so it is not replaced; choose another output directory (--force replaces it anyway)", dir, why, ErrNotResults)
	}
	mb, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return refuse("has no readable " + ManifestFile)
	}
	var m struct {
		Format Format `json:"format"`
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return refuse(fmt.Sprintf("its %s does not read as a results manifest (%v)", ManifestFile, err))
	}
	if _, ours := m.Format.Version(); !ours {
		return refuse(fmt.Sprintf("its %s's format %q does not name %s", ManifestFile, m.Format, FormatName))
	}
	var foreign []string
	for _, e := range entries {
		if !slices.Contains(layoutEntries, e.Name()) {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		return refuse(fmt.Sprintf("holds %s besides the results", strings.Join(foreign, ", ")))
	}
	return nil
}

// incompleteNote is the text of the INCOMPLETE file.
func incompleteNote(reason string, setups int) []byte {
	return fmt.Appendf(nil, "This results directory is incomplete: %s\n"+
		"It holds the %d setup(s) that finished. \"simulate summary\" and \"simulate plot\" refuse it\n"+
		"unless given --allow-incomplete.\n", reason, setups)
}

// Incomplete reports whether d is the results directory of a run that did
// not finish (manifest.complete false, or an INCOMPLETE file), and why.
// Directories in the prototype's layout are complete.
func (d *Data) Incomplete() (reason string, incomplete bool) {
	if d.Manifest == nil {
		return "", false
	}
	note, err := os.ReadFile(filepath.Join(d.Dir, IncompleteFile))
	if err == nil || !d.Manifest.Complete {
		reason = strings.TrimSpace(string(note))
		if first, _, ok := strings.Cut(reason, "\n"); ok {
			reason = first
		}
		reason = strings.TrimPrefix(reason, "This results directory is incomplete: ")
		if reason == "" {
			reason = d.Manifest.Reason
		}
		if reason == "" {
			reason = "the manifest says complete: false"
		}
		return reason, true
	}
	return "", false
}

// CheckComplete returns an error wrapping ErrIncomplete when d is the
// results directory of a run that did not finish.
func CheckComplete(d *Data) error {
	if reason, ok := d.Incomplete(); ok {
		return fmt.Errorf("%s: %w (%s): it holds only the %d setup(s) that finished", d.Dir, ErrIncomplete, reason, len(d.Names))
	}
	return nil
}
