// Package progress draws a progress bar on a terminal (stderr) for long
// runs:
//
//	remote_256  [==========>         ]  532/1000  53%  1.2s
//
// On a terminal the bar redraws in place (carriage return); on another
// writer, when asked for, it prints a line at every tenth of the work
// instead. It redraws only when what it shows changes, so updates are cheap
// enough to call for every request. A Bar never reads the clock itself: give
// it Now to show elapsed time.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Options configure a Bar.
type Options struct {
	// Enabled draws the bar; a disabled Bar does nothing (tests, --quiet).
	Enabled bool
	// Terminal redraws in place; otherwise a line is printed per tenth.
	Terminal bool
	// Width is the bar's width in characters (0: 30).
	Width int
	// Now, when set, is read to show the elapsed time of each stage.
	Now func() time.Time
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Auto makes the options for w: enabled and in place when w is a terminal,
// or when force is set (then in place only on a terminal).
func Auto(w io.Writer, force bool, now func() time.Time) Options {
	term := IsTerminal(w)
	return Options{Enabled: term || force, Terminal: term, Now: now}
}

// Bar is a progress bar for one stage of work at a time. It is not safe for
// concurrent use.
type Bar struct {
	w     io.Writer
	opt   Options
	label string
	total int
	done  int
	shown int // last drawn position (in bar cells or tenths)
	pct   int // last drawn percentage
	start time.Time
	open  bool // a stage is running
	drawn bool // a line is on screen (terminal mode)
}

// New makes a bar writing to w.
func New(w io.Writer, opt Options) *Bar {
	if opt.Width <= 0 {
		opt.Width = 30
	}
	return &Bar{w: w, opt: opt}
}

// Enabled reports whether the bar draws anything.
func (b *Bar) Enabled() bool { return b != nil && b.opt.Enabled }

// Begin starts a stage of total units of work called label.
func (b *Bar) Begin(label string, total int) {
	if !b.Enabled() {
		return
	}
	if b.open {
		b.End("")
	}
	b.label, b.total, b.done, b.shown, b.pct, b.open = label, total, 0, -1, -1, true
	if b.opt.Now != nil {
		b.start = b.opt.Now()
	}
	b.draw()
}

// Update sets the work done of the stage (its signature is that of
// emulator.Config.Progress). A total different from Begin's replaces it.
func (b *Bar) Update(done, total int) {
	if !b.Enabled() || !b.open {
		return
	}
	b.done, b.total = done, total
	b.draw()
}

// End finishes the stage: the bar is cleared (terminal) and msg, if not
// empty, printed on its own line.
func (b *Bar) End(msg string) {
	if !b.Enabled() {
		return
	}
	if b.open && !b.opt.Terminal && b.shown < 10 {
		b.done = b.total
		b.draw()
	}
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
	b.open = false
	if msg != "" {
		fmt.Fprintln(b.w, msg)
	}
}

// Printf prints a line above the bar.
func (b *Bar) Printf(format string, args ...any) {
	if !b.Enabled() {
		return
	}
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
	fmt.Fprintf(b.w, format, args...)
	if b.open {
		b.shown, b.pct = -1, -1 // redraw on the next update
	}
}

func (b *Bar) fraction() float64 {
	if b.total <= 0 {
		return 0
	}
	f := float64(b.done) / float64(b.total)
	return min(max(f, 0), 1)
}

func (b *Bar) elapsed() string {
	if b.opt.Now == nil {
		return ""
	}
	return "  " + b.opt.Now().Sub(b.start).Round(100*time.Millisecond).String()
}

func (b *Bar) draw() {
	f := b.fraction()
	pct := int(f * 100)
	if !b.opt.Terminal {
		tenth := int(f * 10)
		if tenth == b.shown {
			return
		}
		b.shown = tenth
		fmt.Fprintf(b.w, "%s %d/%d %d%%%s\n", b.label, b.done, b.total, pct, b.elapsed())
		return
	}
	cells := int(f * float64(b.opt.Width))
	if cells == b.shown && pct == b.pct {
		return
	}
	b.shown, b.pct = cells, pct
	bar := strings.Repeat("=", cells)
	if cells < b.opt.Width {
		bar += ">" + strings.Repeat(" ", b.opt.Width-cells-1)
	}
	fmt.Fprintf(b.w, "\r\033[K%s [%s] %d/%d %3d%%%s", b.label, bar, b.done, b.total, pct, b.elapsed())
	b.drawn = true
}
