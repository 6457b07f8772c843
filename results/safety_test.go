package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 15: --out replaced any directory that held a file called
// manifest.json (web extensions and PWAs have one). Only a directory whose
// manifest names fusionsim, holding nothing but the results layout, is
// replaced; --force replaces anything.
func TestReplaceOnlyWhatFusionsimWrote(t *testing.T) {
	parent := t.TempDir()
	run := fixtureRun(t)
	mk := func(name string, files map[string]string) string {
		dir := filepath.Join(parent, name)
		for f, body := range files {
			p := filepath.Join(dir, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	refused := map[string]struct {
		dir  string
		want string
	}{
		"web extension": {mk("ext", map[string]string{"manifest.json": `{"manifest_version":3,"name":"my extension"}`, "popup.html": "<p>"}), `format "" does not name fusionsim-results`},
		"PWA":           {mk("pwa", map[string]string{"manifest.json": `{"name":"app","format":"standalone"}`}), `format "standalone" does not name`},
		"no manifest":   {mk("thesis", map[string]string{"thesis.tex": "x"}), "has no readable manifest.json"},
		"bad manifest":  {mk("junk", map[string]string{"manifest.json": `[1,2`}), "does not read as a results manifest"},
		"layout 1":      {mk("old", map[string]string{"manifest.json": `{"format":1,"version":"(devel)","seed":1,"setups":[]}`}), `format "1" does not name`},
		"file":          {mk("f", map[string]string{"x": "y"}) + "/x", "is a file"},
	}
	// A results directory with a user's file added is not replaced either.
	mixed := filepath.Join(parent, "mixed")
	if err := Write(mixed, run); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(mixed, "notes.txt"), []byte("mine"), 0o644)
	refused["results plus a user's file"] = struct{ dir, want string }{mixed, "holds notes.txt besides the results"}
	for what, c := range refused {
		before := tree(t, filepath.Dir(c.dir))
		err := Write(c.dir, run)
		if !errors.Is(err, ErrNotResults) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--force") {
			t.Errorf("%s: Write = %v, want ErrNotResults saying %q and naming --force", what, err, c.want)
		}
		if after := tree(t, filepath.Dir(c.dir)); len(after) != len(before) {
			t.Errorf("%s: files changed: %d before, %d after", what, len(before), len(after))
		}
	}
	// What fusionsim wrote is replaced.
	ours := filepath.Join(parent, "ours")
	for range 2 {
		if err := Write(ours, run); err != nil {
			t.Fatalf("replacing a results directory: %v", err)
		}
	}
	// Force replaces anything.
	for what, c := range refused {
		st, err := NewStageWith(c.dir, StageOptions{Force: true})
		if err != nil {
			t.Fatalf("%s with force: %v", what, err)
		}
		if err := st.Commit(run); err != nil {
			t.Fatalf("%s with force: %v", what, err)
		}
		if _, err := Read(c.dir, ReadOptions{}); err != nil {
			t.Errorf("%s replaced with force: %v", what, err)
		}
	}
}

// Issue 15: an interrupted run's directory read as complete. It is written
// with manifest.complete false and an INCOMPLETE file; CheckComplete
// refuses it.
func TestIncompleteRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "res")
	run := fixtureRun(t)
	run.Setups = run.Setups[:2]
	run.Incomplete = "interrupted (context canceled) after 2 of 4 setups"
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	note, err := os.ReadFile(filepath.Join(dir, IncompleteFile))
	if err != nil || !strings.Contains(string(note), run.Incomplete) {
		t.Fatalf("INCOMPLETE: %q, %v", note, err)
	}
	d, err := Read(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Manifest.Complete {
		t.Error("manifest.complete is true")
	}
	if reason, ok := d.Incomplete(); !ok || reason != run.Incomplete {
		t.Errorf("Incomplete() = %q, %v", reason, ok)
	}
	if err := CheckComplete(d); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "2 setup(s)") {
		t.Errorf("CheckComplete: %v", err)
	}
	// The same run finished is complete, and replaces the incomplete one.
	run.Incomplete = ""
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	if d, err = Read(dir, ReadOptions{}); err != nil || !d.Manifest.Complete || CheckComplete(d) != nil {
		t.Errorf("complete run: %v, %+v", err, d.Manifest)
	}
	if _, err := os.Stat(filepath.Join(dir, IncompleteFile)); !os.IsNotExist(err) {
		t.Error("INCOMPLETE left behind")
	}
	// Layout 1 manifests (no complete field) read: complete unless their
	// reason says the run stopped.
	m, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	legacy := strings.Replace(string(m), `"format": "`+string(CurrentFormat)+`",
  "complete": true,`, `"format": 1,`, 1)
	if legacy == string(m) {
		t.Fatalf("manifest layout changed:\n%s", m)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(legacy), 0o644)
	if d, err = Read(dir, ReadOptions{}); err != nil || CheckComplete(d) != nil {
		t.Errorf("layout 1: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(strings.Replace(legacy, `"format": 1,`, `"format": 1, "reason": "stopped by an error: context canceled",`, 1)), 0o644)
	if d, err = Read(dir, ReadOptions{}); err != nil || !errors.Is(CheckComplete(d), ErrIncomplete) {
		t.Errorf("layout 1, stopped: %v, %v", err, CheckComplete(d))
	}
}
