package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDisabledWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{})
	b.Begin("x", 10)
	b.Update(5, 10)
	b.End("done")
	b.Printf("hello\n")
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	var nilBar *Bar
	if nilBar.Enabled() {
		t.Error("nil bar enabled")
	}
}

func TestLinesPerTenth(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{Enabled: true})
	b.Begin("remote", 1000)
	for i := 1; i <= 1000; i++ {
		b.Update(i, 1000)
	}
	b.End("remote: 1000 requests")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// 0%, 10%, ..., 100%, then the message.
	if len(lines) != 12 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if lines[0] != "remote 0/1000 0%" || lines[5] != "remote 500/1000 50%" || lines[10] != "remote 1000/1000 100%" || lines[11] != "remote: 1000 requests" {
		t.Errorf("lines:\n%s", buf.String())
	}
}

func TestTerminalRedrawsOnlyOnChange(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	b := New(&buf, Options{Enabled: true, Terminal: true, Width: 10, Now: func() time.Time { return now }})
	b.Begin("s", 1000)
	draws := strings.Count(buf.String(), "\r")
	for i := 1; i <= 1000; i++ {
		now = now.Add(time.Millisecond)
		b.Update(i, 1000)
	}
	draws = strings.Count(buf.String(), "\r") - draws
	if draws != 100 {
		t.Errorf("%d redraws for 1000 updates, want 100 (one per percent)", draws)
	}
	if !strings.Contains(buf.String(), "s [==========] 1000/1000 100%  1s") {
		t.Errorf("last draw missing: %q", buf.String()[len(buf.String())-60:])
	}
	b.End("")
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Error("End did not clear the line")
	}
}
