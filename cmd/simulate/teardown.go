package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fusionsim/fusionsim/aws"
)

func init() {
	register(command{
		name:    "teardown",
		summary: "delete the AWS resources of --backend aws runs: functions, tables and log groups of a name prefix",
		run:     runTeardown,
	})
}

func teardownUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate teardown [--aws-prefix PREFIX] [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Deletes what \"simulate --backend aws\" deployed: every Lambda function named")
		fmt.Fprintln(w, "<PREFIX>fusion-function-*, the DynamoDB tables <PREFIX><table> of --aws-tables and the")
		fmt.Fprintln(w, "log groups /aws/lambda/<PREFIX>fusion-function-*. It lists them on stdout first;")
		fmt.Fprintln(w, "--dry-run only lists. Without --aws-prefix it deletes the prototype's names, i.e.")
		fmt.Fprintln(w, "every fusion-function-* of the account and region.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Examples:")
		fmt.Fprintln(w, "  simulate teardown --aws-prefix exp1- --aws-region eu-central-1 --dry-run")
		fmt.Fprintln(w, "  simulate teardown --aws-prefix exp1- --endpoint-url http://127.0.0.1:4566")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

func runTeardown(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("teardown", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var a awsFlags
	a.defineCommon(fs)
	dryRun := fs.Bool("dry-run", false, "list the resources without deleting them")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	fs.Usage = teardownUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	tc := aws.TeardownConfig{DryRun: *dryRun}
	tc.Prefix, tc.Region, tc.Profile, tc.EndpointURL = a.prefix, a.region, a.profile, a.endpoint
	switch t := strings.TrimSpace(a.tables); t {
	case "", "none":
		tc.NoTables = true
	default:
		for _, n := range strings.Split(t, ",") {
			if n = strings.TrimSpace(n); n != "" {
				tc.Tables = append(tc.Tables, n)
			}
		}
	}
	if !*quiet {
		tc.Log = stderr
	}
	res, err := aws.Teardown(ctx, tc)
	if errors.Is(err, aws.ErrConfig) {
		return usageError("%v", err)
	}
	if !*quiet {
		verb := "deleted"
		if *dryRun {
			verb = "would delete"
		}
		if res.Empty() && err == nil {
			fmt.Fprintf(stdout, "nothing to delete under prefix %q\n", a.prefix)
		}
		for _, group := range []struct {
			kind  string
			names []string
		}{{"function", res.Functions}, {"table", res.Tables}, {"log group", res.LogGroups}} {
			for _, n := range group.names {
				fmt.Fprintf(stdout, "%s %s %s\n", verb, group.kind, n)
			}
		}
	}
	return err
}
