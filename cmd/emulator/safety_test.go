package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs the command with args until the returned stop is called; it
// waits until it listens and returns its stderr so far.
func start(t *testing.T, args ...string) (stderr *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, args, io.Discard, stderr) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "listening on http://"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the emulator did not start; stderr:\n%s", stderr.String())
		}
	}
	return stderr, func() error { cancel(); return <-done }
}

// Issue 15: 0.0.0.0 was taken without a word.
func TestWarnsWhenListeningBeyondLoopback(t *testing.T) {
	stderr, stop := start(t, "--listen", "0.0.0.0:0", "--out", "")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "is reachable from other machines") {
		t.Errorf("no warning for 0.0.0.0:\n%s", stderr.String())
	}
	stderr, stop = start(t, "--listen", "127.0.0.1:0", "--out", "")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("a warning for 127.0.0.1:\n%s", stderr.String())
	}
}

// Issue 15: --time-scale 1e12 and --reserved-concurrency NOPE-128=5 were
// accepted, and --out replaced any directory holding a manifest.json.
func TestFlagsOfIssue15(t *testing.T) {
	ext := t.TempDir()
	os.WriteFile(filepath.Join(ext, "manifest.json"), []byte(`{"manifest_version":3,"name":"my extension"}`), 0o644)
	os.WriteFile(filepath.Join(ext, "popup.js"), []byte("mine"), 0o644)
	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"--time-scale", "1e12"}, "--time-scale: 1e+12 is outside 0.001..10000"},
		{[]string{"--time-scale", "1e-9"}, "--time-scale: 1e-09 is outside"},
		{[]string{"--reserved-concurrency", "NOPE-128=5"}, "--reserved-concurrency: NOPE-128: NOPE is not a task of iot"},
		{[]string{"--max-connections", "0"}, "--max-connections: 0"},
		{[]string{"--body-timeout", "0s"}, "--body-timeout: 0s"},
		{[]string{"--listen", "127.0.0.1:0", "--out", ext}, `format "" does not name fusionsim-results`},
	} {
		err := Run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%v: error %v, want one mentioning %q", c.args, err, c.mention)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(ext, "popup.js")); string(b) != "mine" {
		t.Fatal("the extension's files were touched")
	}
	// --force replaces it.
	_, stop := start(t, "--listen", "127.0.0.1:0", "--out", ext, "--force", "--no-figures")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ext, "popup.js")); !os.IsNotExist(err) {
		t.Errorf("--force: popup.js is still there (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(ext, "manifest.json")); err != nil || !strings.Contains(string(b), `"format": "fusionsim-results/2"`) {
		t.Errorf("--force: manifest %s, %v", b, err)
	}
}
