package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fusionsim/fusionsim/results"
	"github.com/fusionsim/fusionsim/sweep"
)

func init() {
	register(command{
		name:    "merge",
		summary: "combine the shard directories of a sweep into the results directory of the whole sweep",
		run:     runMerge,
	})
}

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the merged results `DIR` (default: DIR/merged when one DIR is given)")
	formats := fs.String("formats", "pdf,svg,png", "figure `FORMATS`")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	wait := fs.Duration("wait", 0, "wait up to this long for missing cells (shards still running), looking again every 10 s")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate merge [--out MERGED] DIR...")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Combines the results directories of a sweep's shards (\"simulate sweep --shard I/N\")")
		fmt.Fprintln(w, "into the directory the whole sweep writes, byte for byte: manifest.json, cells.csv,")
		fmt.Fprintln(w, "summary.csv, front.csv, configuration/, figures/. A DIR that is not a results")
		fmt.Fprintln(w, "directory stands for the shard directories in it (shard-*-of-*). Directories of")
		fmt.Fprintln(w, "different sweeps (the manifest's sweep hash) or builds are refused; missing cells are")
		fmt.Fprintln(w, "listed by index and shard, and nothing is written (exit status 1).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Example:")
		fmt.Fprintln(w, "  simulate merge results/iot-rules            # results/iot-rules/shard-*-of-* -> results/iot-rules/merged")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Flags may follow the directories.
	var dirArgs []string
	for fs.NArg() > 0 {
		dirArgs = append(dirArgs, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if len(dirArgs) == 0 {
		return usageError("merge needs the shard directories (or the sweep directory holding them)")
	}
	fmts, err := figureFormats(*formats)
	if err != nil {
		return err
	}
	target := *out
	if target == "" {
		if len(dirArgs) != 1 {
			return usageError("--out is required with several directories")
		}
		target = filepath.Join(dirArgs[0], "merged")
	}
	deadline := time.Now().Add(*wait)
	var dirs []string
	var res *sweep.Result
	for {
		dirs, err = sweep.ShardDirs(dirArgs)
		if err == nil {
			for _, d := range dirs {
				if filepath.Clean(d) == filepath.Clean(target) {
					return usageError("--out %s is one of the directories to merge", target)
				}
			}
			res, err = sweep.Merge(dirs, sweepApp)
		}
		var missing *sweep.MissingError
		if err == nil || !(errors.As(err, &missing) || errors.Is(err, sweep.ErrNotSweep)) || !time.Now().Before(deadline) {
			break
		}
		if !*quiet {
			fmt.Fprintf(stderr, "merge: waiting: %v\n", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(10*time.Second, time.Until(deadline))):
		}
	}
	if err != nil {
		return fmt.Errorf("merge of %d directories: %w", len(dirs), err)
	}
	if pathExists(filepath.Join(target, results.ManifestFile)) {
		if d, err := sweep.ReadDir(target); err != nil || d.Info.Hash != res.Plan.Hash {
			return usageError("--out %s holds another results directory; choose another --out or remove it", target)
		}
	} else if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 {
		return usageError("--out %s exists, is not empty and is not a results directory", target)
	}
	if _, err := res.Write(target, results.PlotOptions{Formats: fmts}); err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	if *quiet {
		return nil
	}
	fmt.Fprintf(stdout, "merged %d directories (%d cells):\n", len(dirs), res.Plan.Cells)
	for _, d := range dirs {
		fmt.Fprintf(stdout, "  %s\n", d)
	}
	return printSweep(stdout, res, target)
}
