package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/fusionsim/fusionsim/awsstandin"
	"github.com/fusionsim/fusionsim/model"
)

func init() {
	register(command{
		name:    "aws-standin",
		summary: "serve a local stand-in for the AWS APIs of --backend aws (Lambda, CloudWatch Logs, DynamoDB), its functions run by the emulator",
		run:     runStandin,
	})
}

func standinUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate aws-standin [--listen ADDR] (--emulator URL | --workload NAME) [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Serves the subset of the Lambda control plane and Invoke API, CloudWatch Logs (JSON 1.1)")
		fmt.Fprintln(w, "and DynamoDB (JSON 1.0) that \"simulate --backend aws\" and the fusion functions call, so")
		fmt.Fprintln(w, "that an AWS run can be tried locally with --endpoint-url. The functions run on the")
		fmt.Fprintln(w, "emulator: a running cmd/emulator (--emulator, started with --time-scale 1), or one in")
		fmt.Fprintln(w, "this process (--workload). No credentials are checked; give the SDK dummy ones.")
		fmt.Fprintln(w, "It is a test aid, not a model of AWS's limits. Stop it with Ctrl-C.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Example:")
		fmt.Fprintln(w, "  simulate aws-standin --workload iot --quick &")
		fmt.Fprintln(w, "  AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy simulate --workload iot --setup remote \\")
		fmt.Fprintln(w, "    --rps 20 --duration 10s --backend aws --endpoint-url http://127.0.0.1:4566 --aws-region us-east-1 \\")
		fmt.Fprintln(w, "    --aws-role-arn arn:aws:iam::123456789012:role/fusion --aws-settle 1s --aws-settle-poll 200ms")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

func runStandin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aws-standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:4566", "`ADDR`ess to listen on (host:port; port 0 picks a free one)")
	emulatorURL := fs.String("emulator", "", "`URL` of a running cmd/emulator (started with --time-scale 1) that runs the functions")
	var wl appFlags
	wl.define(fs, " (without --emulator: the application an in-process emulator runs; or --app FILE)")
	profile := fs.String("profile", "", "without --emulator: the in-process emulator's profile `FILE` (default: the embedded profile)")
	quick := fs.Bool("quick", false, "without --emulator: a profile of short CPU work and cold starts, so that requests take milliseconds (its figures are not Lambda's)")
	seed := fs.Uint64("seed", 1, "without --emulator: the in-process emulator's seed")
	pageSize := fs.Int("log-page-size", 1000, "events per FilterLogEvents page")
	fs.Usage = standinUsage(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if (*emulatorURL == "") == !wl.given() {
		return usageError("give either --emulator URL (a running cmd/emulator) or --workload NAME / --app FILE (an emulator in this process)")
	}
	if *pageSize < 1 {
		return usageError("--log-page-size %d: must be >= 1", *pageSize)
	}
	var handler http.Handler
	var closeEmu func(context.Context) error
	if *emulatorURL != "" {
		if *profile != "" || *quick {
			return usageError("--profile and --quick configure the in-process emulator; the one at --emulator has its own")
		}
		b, err := awsstandin.RemoteEmulator(*emulatorURL)
		if err != nil {
			return usageError("--emulator: %v", err)
		}
		handler = awsstandin.New(awsstandin.Config{Backend: b, Upstream: b.Handler, LogPageSize: *pageSize, Log: stderr})
	} else {
		w, _, err := wl.resolve()
		if err != nil {
			return err
		}
		var prof model.Profile
		switch {
		case *quick && *profile != "":
			return usageError("--quick and --profile: give one")
		case *quick:
			prof = awsstandin.QuickProfile()
		case *profile != "":
			if prof, err = model.Load(*profile); err != nil {
				return usageError("--profile: %v", err)
			}
		}
		e, err := awsstandin.NewEmulated(awsstandin.EmulatedConfig{App: w.App, Profile: prof, Seed: *seed, LogPageSize: *pageSize, Log: stderr})
		if err != nil {
			return err
		}
		handler, closeEmu = e, e.Close
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		if closeEmu != nil {
			closeEmu(context.Background())
		}
		return usageError("--listen: %v", err)
	}
	fmt.Fprintf(stderr, "aws-standin: listening on http://%s (use --endpoint-url http://%s)\n", ln.Addr(), ln.Addr())
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var errs []error
	select {
	case <-ctx.Done():
	case err := <-errc:
		errs = append(errs, err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if closeEmu != nil {
		errs = append(errs, closeEmu(sctx))
	}
	err = errors.Join(errs...)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
