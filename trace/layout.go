package trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// Files of the prototype's directory layout.
const (
	// ConfigDir is the subdirectory holding the configuration metadata.
	ConfigDir = "configuration"
	// ConfigFile is the configuration metadata's file name (optionally with
	// ".gz").
	ConfigFile = "configurationMetadata.json"
)

// Size limits of what the readers decompress and decode.
const (
	MaxConfigBytes = 64 << 20 // configuration metadata
	MaxTraceBytes  = 8 << 30  // one setup's traces
)

// Limits of gzip input: a file may decompress to at most MaxGzipRatio times
// its compressed size (at least MinGzipLimit bytes, at most the reader's
// limit), so that a small gzip bomb fails at once instead of taking
// gigabytes. Traces compress 12-17 times (emulated and published ones),
// configuration metadata up to 122 times (within MinGzipLimit).
const (
	MaxGzipRatio = 64
	MinGzipLimit = 64 << 20
)

// ErrTooLarge is wrapped by the readers' errors for input over a limit.
var ErrTooLarge = errors.New("input too large")

// ErrNoConfigs is returned by ReadConfigs when the directory has no
// configuration metadata.
var ErrNoConfigs = errors.New("no configuration metadata")

// Traces are invocation records by setup name.
type Traces map[string][]Record

// Names returns the setup names in creation order: numeric names (the
// optimizer's Unix times) by value, then the others lexicographically.
func (t Traces) Names() []string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	fusionsim.SortSetupNames(names)
	return names
}

// Dir is a directory in the prototype's layout: <dir>/<setup>.json[.gz], one
// JSON array of records per setup, and
// <dir>/configuration/configurationMetadata.json[.gz].
type Dir struct {
	Traces Traces
	// Configs is nil when the directory has no configuration metadata.
	Configs fusionsim.Configs
}

// ReadDir reads a directory in the prototype's layout. Gzip-compressed files
// are detected by their content, whatever their name. A directory without
// configuration metadata reads with Configs nil.
func ReadDir(dir string) (*Dir, error) {
	t, err := ReadTraces(dir)
	if err != nil {
		return nil, err
	}
	c, err := ReadConfigs(dir)
	if err != nil && !errors.Is(err, ErrNoConfigs) {
		return nil, err
	}
	return &Dir{Traces: t, Configs: c}, nil
}

// ReadTraces reads every <setup>.json and <setup>.json.gz of dir (not its
// subdirectories); the file name without extension is the setup name.
func ReadTraces(dir string) (Traces, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	t := make(Traces)
	from := make(map[string]string)
	for _, e := range entries {
		name, ok := setupOfFile(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := fusionsim.ValidateSetupName(name); err != nil {
			return nil, fmt.Errorf("%s: the file name is not a setup name: %w", path, err)
		}
		if prev, dup := from[name]; dup {
			return nil, fmt.Errorf("setup %q: both %s and %s exist", name, prev, path)
		}
		recs, err := ReadTraceFile(path)
		if err != nil {
			return nil, err
		}
		t[name], from[name] = recs, path
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("%s: no <setup>.json or <setup>.json.gz trace files", dir)
	}
	return t, nil
}

func setupOfFile(file string) (string, bool) {
	name, ok := strings.CutSuffix(file, ".json.gz")
	if !ok {
		name, ok = strings.CutSuffix(file, ".json")
	}
	return name, ok && name != "" && !strings.HasPrefix(name, ".")
}

// ReadTraceFile reads one setup's records (JSON array, optionally gzip).
func ReadTraceFile(path string) ([]Record, error) {
	data, err := readMaybeGzip(path, MaxTraceBytes)
	if err != nil {
		return nil, err
	}
	recs, err := ParseRecords(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// ParseRecords decodes a JSON array of records (gzip detected) and checks
// every record (ValidateRecord); errors name the record's index.
func ParseRecords(data []byte) ([]Record, error) {
	data, err := gunzip(data, MaxTraceBytes)
	if err != nil {
		return nil, err
	}
	var recs []Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("traces: %w", err)
	}
	if recs == nil {
		return nil, errors.New("traces: not a JSON array of records")
	}
	for i := range recs {
		if err := ValidateRecord(&recs[i]); err != nil {
			return nil, fmt.Errorf("traces: record %d: %w", i, err)
		}
	}
	return recs, nil
}

// ReadConfigs reads <dir>/configuration/configurationMetadata.json or its
// ".gz" variant; ErrNoConfigs when neither exists.
func ReadConfigs(dir string) (fusionsim.Configs, error) {
	base := filepath.Join(dir, ConfigDir, ConfigFile)
	var found []string
	for _, p := range []string{base, base + ".gz"} {
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: %w", dir, ErrNoConfigs)
	case 2:
		return nil, fmt.Errorf("both %s and %s exist", found[0], found[1])
	}
	return ReadConfigFile(found[0])
}

// ReadConfigFile reads a configuration metadata file (gzip detected).
func ReadConfigFile(path string) (fusionsim.Configs, error) {
	data, err := readMaybeGzip(path, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	c, err := fusionsim.ParseConfigs(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfigData decodes configuration metadata, gzip-compressed or not.
func ParseConfigData(data []byte) (fusionsim.Configs, error) {
	data, err := gunzip(data, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	return fusionsim.ParseConfigs(data)
}

func readMaybeGzip(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrTooLarge, limit)
	}
	data, err = gunzip(data, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// IsGzip reports whether data starts with the gzip magic number.
func IsGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// gunzip decompresses data if it is gzip (every member), at most limit
// bytes and at most GzipLimit(len(data)).
func gunzip(data []byte, limit int64) ([]byte, error) {
	if !IsGzip(data) {
		return data, nil
	}
	if l := GzipLimit(int64(len(data))); l < limit {
		limit = l
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("gzip: %w: decompresses to more than %d bytes (%d compressed; at most %d times that, or %d bytes, are read)",
			ErrTooLarge, limit, len(data), MaxGzipRatio, MinGzipLimit)
	}
	return out, nil
}

// GzipLimit is the most that compressed bytes of gzip may decompress to:
// MaxGzipRatio times as much, at least MinGzipLimit.
func GzipLimit(compressed int64) int64 {
	return max(MinGzipLimit, MaxGzipRatio*compressed)
}

// MarshalRecords encodes records the way the published traces are written:
// one compact JSON array, fields in Record's order, no HTML escaping, no
// trailing newline; an empty slice is "[]".
func MarshalRecords(recs []Record) ([]byte, error) {
	var buf bytes.Buffer
	rw := NewRecordWriter(&buf, false)
	for i := range recs {
		if err := rw.Write(&recs[i]); err != nil {
			return nil, err
		}
	}
	if err := rw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteOptions configure WriteDir.
type WriteOptions struct {
	// Gzip writes <setup>.json.gz instead of <setup>.json (deterministic:
	// no name or time in the gzip header).
	Gzip bool
}

// WriteDir writes d in the prototype's layout, creating dir if needed. Every
// file is written atomically (a temporary file renamed into place); a file
// of the other variant (.json vs .json.gz) of a written setup is removed.
// Configuration metadata is written only when d.Configs is not nil.
func WriteDir(dir string, d *Dir, opt WriteOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range d.Traces.Names() {
		if err := fusionsim.ValidateSetupName(name); err != nil {
			return err
		}
		file, other := name+".json", name+".json.gz"
		if opt.Gzip {
			file, other = other, file
		}
		if err := WriteTraceFile(filepath.Join(dir, file), d.Traces[name], opt.Gzip); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(dir, other)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if d.Configs != nil {
		return WriteConfigs(dir, d.Configs)
	}
	return nil
}

// WriteTraceFile writes one setup's records atomically, gzip-compressed if
// gz (RecordWriter).
func WriteTraceFile(path string, recs []Record, gz bool) error {
	return WriteTraceFileFunc(path, gz, func(write func(*Record) error) error {
		for i := range recs {
			if err := write(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteTraceFileFunc writes a trace file atomically, gzip-compressed if gz
// (RecordWriter), with the records each passes to write in turn. An error
// of each or of the writing leaves no file.
func WriteTraceFileFunc(path string, gz bool, each func(write func(*Record) error) error) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	rw := NewRecordWriter(bw, gz)
	err = each(rw.Write)
	if err == nil {
		err = rw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// WriteConfigs writes <dir>/configuration/configurationMetadata.json
// atomically (compact JSON with sorted keys, fusionsim.Configs.Marshal) and
// removes a ".gz" variant.
func WriteConfigs(dir string, c fusionsim.Configs) error {
	data, err := c.Marshal()
	if err != nil {
		return fmt.Errorf("configuration metadata: %w", err)
	}
	cdir := filepath.Join(dir, ConfigDir)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(cdir, ConfigFile)
	if err := WriteFileAtomic(path, data); err != nil {
		return err
	}
	if err := os.Remove(path + ".gz"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced and renamed into place, so that readers see the
// old file or the whole new one. The file's mode is 0644.
func WriteFileAtomic(path string, data []byte) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// AtomicFile is a file being written through a temporary file in its
// directory: Commit syncs it and renames it into place, Abort removes it.
type AtomicFile struct {
	*os.File
	path string
}

// CreateAtomic starts writing path (see WriteFileAtomic).
func CreateAtomic(path string) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{File: f, path: path}, nil
}

// Abort removes the temporary file.
func (f *AtomicFile) Abort() {
	f.File.Close()
	os.Remove(f.Name())
}

// Commit makes the file path (mode 0644).
func (f *AtomicFile) Commit() error {
	tmp := f.Name()
	fail := func(err error) error {
		f.Abort()
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}
