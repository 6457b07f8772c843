package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fusionsim/fusionsim/model"

	"github.com/fusionsim/fusionsim/results"
)

func init() {
	register(command{
		name:    "summary",
		summary: "print the summary table of a results directory or of traces in the prototype's layout",
		run:     runSummary,
	})
}

func runSummary(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recompute := fs.Bool("recompute", false, "summarize the traces (and client responses) again instead of reading summary.csv")
	asCSV := fs.Bool("csv", false, "print summary.csv's format instead of a table")
	allowIncomplete := fs.Bool("allow-incomplete", false, "read the results directory of an interrupted run (manifest.complete false, an INCOMPLETE file) with a warning instead of failing")
	kindsOnly := fs.Bool("kinds", false, "print only the per-kind summary of a run whose requests have kinds (a scenario load: summary-kinds.csv, one row per kind of request and setup, then the mixture, kind \"all\"); with --csv in summary-kinds.csv's format")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "Usage: simulate summary [flags] DIR")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Prints one row per setup. DIR is a results directory (it has manifest.json;")
		fmt.Fprintln(o, "the rows come from its summary.csv) or a directory of traces in the prototype's")
		fmt.Fprintln(o, "layout (<setup>.json[.gz] and configuration/), e.g. ../shared/calibration/*.")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Latency is the root invocation's internalDuration (median; p95 and p99 are the")
		fmt.Fprintln(o, "(floor(n*p)+1)-th smallest value); e2e is the client's latency of successful")
		fmt.Fprintln(o, "requests (\"-\" for real traces); GB-ms/req is billed GB-ms (1 GB = 1024 MB) of")
		fmt.Fprintln(o, "all invocations per request; USD/1M req adds the request fees. Setups whose")
		fmt.Fprintln(o, "traces are incomplete (requests without their root invocation record, roots cut")
		fmt.Fprintln(o, "off by the function timeout, a stretch of a steady load without requests) get a")
		fmt.Fprintln(o, "warning on stderr: their per-request figures are not meaningful.")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "A run of a scenario load (--load-file) also gets a table by kind of request:")
		fmt.Fprintln(o, "requests sent and dropped (iterations that found no free virtual user), root")
		fmt.Fprintln(o, "latency, e2e latency, GB-ms per request of the invocations of its requests'")
		fmt.Fprintln(o, "traces, errors; the kind \"all\" is the mixture (summary.csv's figures).")
		fmt.Fprintln(o)
		fmt.Fprintln(o, "Flags:")
		fs.PrintDefaults()
	}
	dir, err := parseDirArgs(fs, args)
	if err != nil {
		return err
	}
	d, err := results.Read(dir, results.ReadOptions{Recompute: *recompute})
	if err != nil {
		return err
	}
	if err := checkComplete(d, *allowIncomplete, stderr); err != nil {
		return err
	}
	warnIncomplete(stderr, d)
	if *kindsOnly {
		if len(d.Kinds) == 0 {
			return fmt.Errorf("%s: no kinds of request (not a run of a scenario load)", dir)
		}
		if *asCSV {
			return results.WriteKindsCSV(stdout, d.Kinds)
		}
		return results.PrintKindsTable(stdout, d.Kinds)
	}
	if *asCSV {
		return results.WriteCSV(stdout, d.Rows)
	}
	if err := results.PrintTable(stdout, d.Rows); err != nil {
		return err
	}
	if len(d.Kinds) > 0 {
		fmt.Fprintln(stdout, "\nby kind of request:")
		return results.PrintKindsTable(stdout, d.Kinds)
	}
	return nil
}

// warnIncomplete says which setups' traces are not a complete account of
// their requests (results.CheckTraces), under the timeout of the run's
// profile (the default profile's for real traces).
func warnIncomplete(w io.Writer, d *results.Data) {
	prof := model.Default()
	if d.Manifest != nil && d.Manifest.Profile != nil {
		prof = *d.Manifest.Profile
	}
	timeout := time.Duration(prof.Limits.TimeoutS * float64(time.Second))
	for _, name := range d.Names {
		for _, why := range results.CheckTraces(d.Traces[name], d.Responses[name], timeout) {
			fmt.Fprintf(w, "warning: setup %s: traces incomplete: %s; its GB-ms per request and cost are not meaningful\n", name, why)
		}
	}
}

// checkComplete refuses the results directory of an interrupted run (the
// error says so), or with allow warns about it on stderr.
func checkComplete(d *results.Data, allow bool, stderr io.Writer) error {
	err := results.CheckComplete(d)
	if err == nil {
		return nil
	}
	if allow {
		fmt.Fprintf(stderr, "simulate: warning: %v\n", err)
		return nil
	}
	return fmt.Errorf("%w; --allow-incomplete reads it anyway", err)
}

// parseDirArgs parses flags given before or after the one DIR argument.
func parseDirArgs(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	var dirs []string
	for fs.NArg() > 0 {
		dirs = append(dirs, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if len(dirs) != 1 {
		fs.Usage()
		return "", usageError("%s: want one DIR argument, got %d", fs.Name(), len(dirs))
	}
	return dirs[0], nil
}
