package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fusionsim/fusionsim/aws"
	"github.com/fusionsim/fusionsim/trace"
)

func init() {
	register(command{
		name:    "lambda-zip",
		summary: "build the function packages of the AWS backend (the cmd/lambda bootstrap, zipped) for x86_64 and arm64",
		run:     runLambdaZip,
	})
}

func runLambdaZip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lambda-zip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join("bin", "lambda"), "`DIR` the packages are written to, as fusion-lambda-<arch>.zip")
	archs := fs.String("arch", aws.X86+","+aws.Arm64, "comma-separated architectures: x86_64, arm64")
	module := fs.String("module", "", "`DIR` of this module's checkout (default: the working directory)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: simulate lambda-zip [--out DIR] [--arch x86_64,arm64]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Cross-compiles cmd/lambda for linux (GOOS=linux CGO_ENABLED=0 -tags lambda.norpc")
		fmt.Fprintln(w, "-trimpath) with the go command and zips it as \"bootstrap\" for the provided.al2023")
		fmt.Fprintln(w, "runtime. Give a package to \"simulate --backend aws\" with --aws-package. The build is")
		fmt.Fprintln(w, "reproducible: the same source gives the same CodeSha256.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	var list []string
	for _, a := range strings.Split(*archs, ",") {
		a = strings.TrimSpace(a)
		if a != aws.X86 && a != aws.Arm64 {
			return usageError("--arch %q: %q is neither %s nor %s", *archs, a, aws.X86, aws.Arm64)
		}
		list = append(list, a)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return usageError("--out %q: %v", *out, err)
	}
	for _, arch := range list {
		fmt.Fprintf(stderr, "building %s for %s...\n", aws.HandlerPackage, arch)
		zip, err := aws.BuildPackage(ctx, arch, *module)
		if err != nil {
			return err
		}
		path := filepath.Join(*out, "fusion-lambda-"+arch+".zip")
		if err := trace.WriteFileAtomic(path, zip); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\t%d bytes\tCodeSha256 %s\n", path, len(zip), aws.CodeSha256(zip))
	}
	return nil
}
