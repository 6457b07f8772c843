// Command emulator serves a workload's functions on a local port in real
// time, on the same emulated platform the simulator uses: AWS SDKs and CLI
// reach it through the Lambda Invoke API, load generators through the
// prototype's API Gateway routes (POST /SYNC-I-128). Run "emulator --help"
// for the flags; package lambdaapi documents the routes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process as usual.
		<-ctx.Done()
		stop()
	}()
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}
