package workloads

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// files holds the built-in application files, <name>.yaml: the Go
// workloads written as files (package appfile reads them; a test runs each
// against its Go code), and applications that exist only as a file.
//
//go:embed *.yaml
var files embed.FS

// File returns the built-in application file of the workload called name
// (<name>.yaml), and whether there is one.
func File(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, false
	}
	return b, true
}

// FileNames lists the workloads that have a built-in application file,
// sorted.
func FileNames() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("workloads: embedded files: " + err.Error())
	}
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
