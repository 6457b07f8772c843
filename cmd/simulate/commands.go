package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// errUsage marks errors in the command line (exit status 2).
var errUsage = errors.New("usage")

// usageError wraps a command-line error so that it exits with status 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// command is one subcommand; each lives in its own file and registers itself.
type command struct {
	name    string
	summary string // one line for "simulate help"
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("simulate: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// defaultCommand runs when the first argument is a flag or absent.
const defaultCommand = "run"

// Run dispatches to a subcommand; "simulate --workload iot" is "simulate run
// --workload iot".
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := defaultCommand
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		if len(args) > 0 {
			if c, ok := commands[args[0]]; ok {
				return c.run(ctx, []string{"-h"}, stdout, stderr)
			}
		}
		printHelp(stdout)
		return nil
	}
	c, ok := commands[name]
	if !ok {
		printHelp(stderr)
		return usageError("unknown command %q", name)
	}
	return c.run(ctx, args, stdout, stderr)
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: simulate [command] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands (without one, \"run\"):")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\"simulate help COMMAND\" or \"simulate COMMAND -h\" explains a command's flags.")
}
