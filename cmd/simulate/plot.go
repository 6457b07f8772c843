package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/fusionsim/fusionsim/results"
)

func init() {
	register(command{
		name:    "plot",
		summary: "draw the figures of a results directory or of traces in the prototype's layout",
		run:     runPlot,
	})
}

func runPlot(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory of the figures (default DIR/figures)")
	e2e := fs.Bool("e2e", false, "also draw the ECDF of the client's end-to-end latency (results directories only)")
	formats := fs.String("formats", "pdf,svg,png", "comma-separated formats to write: pdf (fonts embedded), svg, png")
	width := fs.Float64("width", 3.5, "figure width in inches (3.5: one column of a two-column paper)")
	dpi := fs.Int("dpi", 300, "resolution of the PNG files, dots per inch")
	recompute := fs.Bool("recompute", false, "summarize the traces again instead of reading summary.csv")
	allowIncomplete := fs.Bool("allow-incomplete", false, "draw the figures of an interrupted run's results directory (manifest.complete false, an INCOMPLETE file) with a warning instead of failing")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "Usage: simulate plot [flags] DIR")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "(Re)draws every figure that applies to DIR, a results directory or a directory")
		fmt.Fprintln(o, "of traces in the prototype's layout, and prints the summary table:")
		fmt.Fprintln(o, "  latency-ecdf       ECDF of the root invocation's internalDuration per setup (always)")
		fmt.Fprintln(o, "  latency-e2e-ecdf   ECDF of the client's end-to-end latency (--e2e)")
		fmt.Fprintln(o, "  iterations         median/p95 latency and cost per setup in run order (setup names")
		fmt.Fprintln(o, "                     numeric and increasing, as an optimizer names them)")
		fmt.Fprintln(o, "  memory-sweep-<fns> latency and cost per function against memory size (a grouping")
		fmt.Fprintln(o, "                     of functions run at three or more memory configurations)")
		fmt.Fprintln(o, "  pareto             cost against median latency with the Pareto front (several setups)")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Flags:")
		fs.PrintDefaults()
	}
	dir, err := parseDirArgs(fs, args)
	if err != nil {
		return err
	}
	opt := results.PlotOptions{E2E: *e2e, WidthIn: *width, PNGDPI: *dpi}
	for _, f := range strings.Split(*formats, ",") {
		switch f = strings.TrimSpace(f); f {
		case "pdf", "svg", "png":
			opt.Formats = append(opt.Formats, f)
		case "":
		default:
			return usageError("--formats: %q is not pdf, svg or png", f)
		}
	}
	if len(opt.Formats) == 0 {
		return usageError("--formats: no format given")
	}
	if !(*width >= 1 && *width <= 20) {
		return usageError("--width: %v inches is outside 1..20", *width)
	}
	if *dpi < 50 || *dpi > 1200 {
		return usageError("--dpi: %d is outside 50..1200", *dpi)
	}
	d, err := results.Read(dir, results.ReadOptions{Recompute: *recompute})
	if err != nil {
		return err
	}
	if err := checkComplete(d, *allowIncomplete, stderr); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(dir, results.FiguresDir)
	}
	files, err := results.DrawFigures(d, *out, opt)
	for _, f := range files {
		fmt.Fprintln(stderr, "wrote", f)
	}
	if err != nil {
		return err
	}
	return results.PrintTable(stdout, d.Rows)
}
