package aws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// HandlerPackage is the import path of the fusion handler's command.
const HandlerPackage = "github.com/fusionsim/fusionsim/cmd/lambda"

// goArch is the GOARCH of a Lambda architecture.
func goArch(arch string) (string, error) {
	switch arch {
	case X86:
		return "amd64", nil
	case Arm64:
		return "arm64", nil
	}
	return "", fmt.Errorf("architecture %q: %s or %s", arch, X86, Arm64)
}

// BuildPackage compiles the fusion handler (cmd/lambda) for Lambda's
// architecture arch with the go command, in moduleDir (this module's
// checkout; "" is the working directory), and returns the function package:
// a zip holding the executable "bootstrap". The build is reproducible
// (-trimpath, no VCS stamp), so an unchanged handler gives the same package
// and the same CodeSha256.
func BuildPackage(ctx context.Context, arch, moduleDir string) ([]byte, error) {
	goarch, err := goArch(arch)
	if err != nil {
		return nil, err
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("building the function package needs the go command (or give a built package with --aws-package): %w", err)
	}
	dir, err := os.MkdirTemp("", "fusion-lambda-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, gocmd, "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", bin, HandlerPackage)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s for linux/%s (run from this module's checkout, or give --aws-package): %w\n%s",
			HandlerPackage, goarch, err, strings.TrimSpace(out.String()))
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	return ZipBootstrap(exe)
}

// zipTime is the modification time written into packages, fixed so that
// packages are reproducible.
var zipTime = time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC)

// ZipBootstrap makes a function package holding exe as the executable
// "bootstrap" (mode 0755), as the provided.al2023 runtime expects.
func ZipBootstrap(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(exe); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CheckPackage checks that a zip is a function package: it holds an
// executable "bootstrap".
func CheckPackage(zipData []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		return fmt.Errorf("not a zip file: %w", err)
	}
	for _, f := range zr.File {
		if f.Name == "bootstrap" {
			if f.Mode()&0o111 == 0 {
				return fmt.Errorf("bootstrap is not executable (mode %v)", f.Mode())
			}
			return nil
		}
	}
	return fmt.Errorf("no bootstrap at the top of the zip")
}

// CodeSha256 is the hash Lambda reports for a package: the base64 of its
// SHA-256.
func CodeSha256(zipData []byte) string {
	sum := sha256.Sum256(zipData)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// loadPackage reads or builds the configured package.
func loadPackage(ctx context.Context, c Config) ([]byte, error) {
	if c.Package != "" {
		b, err := os.ReadFile(c.Package)
		if err != nil {
			return nil, fmt.Errorf("--aws-package: %w", err)
		}
		if err := CheckPackage(b); err != nil {
			return nil, fmt.Errorf("--aws-package %s: %w", c.Package, err)
		}
		return b, nil
	}
	fmt.Fprintf(c.Log, "building the function package (%s, %s)...\n", HandlerPackage, c.Architecture)
	return BuildPackage(ctx, c.Architecture, c.ModuleDir)
}
