// Command simulate runs fusion experiments on the emulated (or real) Lambda
// platform and analyses their traces. Run "simulate help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// The runs allocate much short-lived garbage around a small live heap:
	// collecting at four times the live heap instead of twice saves much of
	// the collector's CPU, and a soft limit keeps long runs' memory bounded
	// all the same (the collector works harder near it). GOGC and
	// GOMEMLIMIT override both.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(640 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}
