package trace

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// calibrationDir is ../shared/calibration seen from this package.
const calibrationDir = "../../shared/calibration"

func calibration(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(calibrationDir, "*", ConfigDir))
	if len(dirs) == 0 {
		t.Skip("no ../shared/calibration")
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// TestReadCalibration loads the four calibration directories unchanged
// (results' README test reads every trace file; here the configurations of
// all four and every file of the smallest, unless
// FUSIONSIM_ALL_CALIBRATION=1).
func TestReadCalibration(t *testing.T) {
	want := map[string]int{
		"IoT-generateConfigurations-dualcore-I-100x10x11":           10,
		"split-coldStarts-dualcore-4":                               4,
		"split-generateConfigurations-dualcore-A-13-x-100-x-10":     13,
		"splittest-generateConfigurations-twocores-G-12-x-100-x-10": 12,
	}
	for _, dir := range calibration(t) {
		name := filepath.Base(dir)
		if name != "split-coldStarts-dualcore-4" && os.Getenv("FUSIONSIM_ALL_CALIBRATION") == "" {
			c, err := ReadConfigs(dir)
			if err != nil || len(c) < want[name] {
				t.Errorf("%s: %d setups in the configuration, %v", name, len(c), err)
			}
			continue
		}
		d, err := ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Traces) != want[name] || d.Configs == nil {
			t.Errorf("%s: %d setups (want %d), configs %v", name, len(d.Traces), want[name], d.Configs != nil)
		}
		for setup, recs := range d.Traces {
			if _, ok := d.Configs[setup]; !ok {
				t.Errorf("%s: setup %s has traces but no configuration", name, setup)
			}
			for _, r := range recs {
				if r.FusionGroup.Name != setup {
					t.Fatalf("%s/%s: record of fusionGroup %s", name, setup, r.FusionGroup)
				}
			}
		}
	}
}

// TestMarshalRecordsBytes re-encodes published trace files and compares
// bytes: the first file of each experiment (all 39 files were checked once;
// set FUSIONSIM_ALL_CALIBRATION=1 to check them all again).
func TestMarshalRecordsBytes(t *testing.T) {
	for _, dir := range calibration(t) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json.gz"))
		if os.Getenv("FUSIONSIM_ALL_CALIBRATION") == "" {
			files = files[:1]
		}
		for _, f := range files {
			raw := gunzipFile(t, f)
			recs, err := ParseRecords(raw)
			if err != nil {
				t.Fatal(err)
			}
			out, err := MarshalRecords(recs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("%s: re-encoding differs from the published bytes", f)
			}
		}
	}
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteReadDir(t *testing.T) {
	recs, err := ReadTraceFile("testdata/cloudwatch/expected-1676026914.json")
	if err != nil {
		t.Fatal(err)
	}
	configs, err := fusionsim.ParseConfigs([]byte(`{"1676026914":{"traceName":1676026914,"rules":{"A":{"B":{"sync":{"strategy":"remote","url":"SYNC-B"},"async":{"strategy":"local"}}}}},
		"b_local":{"traceName":"b_local","rules":{"A":{"B":{"sync":{"strategy":"local"},"async":{"strategy":"local"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	in := &Dir{Traces: Traces{"1676026914": recs, "b_local": {}}, Configs: configs}
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		if err := WriteDir(dir, in, WriteOptions{Gzip: gz}); err != nil {
			t.Fatal(err)
		}
		out, err := ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("gzip %v: read back\n%+v\nwant\n%+v", gz, out, in)
		}
		var names []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				names = append(names, rel)
			}
			return err
		})
		ext := ".json"
		if gz {
			ext = ".json.gz"
		}
		want := []string{"1676026914" + ext, "b_local" + ext, "configuration/configurationMetadata.json"}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("files %v, want %v (no temporary files left)", names, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "b_local"+ext)); !gz && string(b) != "[]" {
			t.Errorf("empty setup written as %q", b)
		}
	}
	// Writing the other variant replaces the first.
	dir := t.TempDir()
	WriteDir(dir, in, WriteOptions{Gzip: true})
	WriteDir(dir, in, WriteOptions{})
	if _, err := ReadTraces(dir); err != nil {
		t.Error(err)
	}
}

func TestReadDirErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "no <setup>.json") {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`[{"traceId":1}]`), 0o644)
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Errorf("bad record: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`[]`), 0o644)
	os.WriteFile(filepath.Join(dir, "x.json.gz"), []byte(`[]`), 0o644)
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("ambiguous setup: %v", err)
	}
	os.Remove(filepath.Join(dir, "x.json.gz"))
	d, err := ReadDir(dir)
	if err != nil || d.Configs != nil {
		t.Errorf("no configuration: %v %v", d, err)
	}
	os.MkdirAll(filepath.Join(dir, ConfigDir), 0o755)
	os.WriteFile(filepath.Join(dir, ConfigDir, ConfigFile), []byte(`{"x":{"rules":{"A":{"B":{"sync":{"strategy":"sometimes"}}}}}}`), 0o644)
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), `rules["A"]["B"].sync`) {
		t.Errorf("bad configuration: %v", err)
	}
}

func TestParseConfigDataGzip(t *testing.T) {
	plain := []byte(`{"s":{"traceName":"s","rules":{"A":{"A":{"sync":{"strategy":"local"},"async":{"strategy":"remote","url":"A-768"}}}}}}`)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain)
	zw.Close()
	a, err := ParseConfigData(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseConfigData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("gzip and plain differ: %v %v", a, b)
	}
	if _, err := ParseConfigData(buf.Bytes()[:10]); err == nil {
		t.Error("truncated gzip: no error")
	}
}
