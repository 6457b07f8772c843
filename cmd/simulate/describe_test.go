package main

import (
	"errors"
	"strings"
	"testing"
)

// TestDescribe: "simulate describe" on the webshop fixture prints every
// setup's request kinds, functions and calls; --setup selects, and an
// unknown setup or a missing directory is an error.
func TestDescribe(t *testing.T) {
	const dir = "../../calibrate/testdata/webshop"
	out := mustSimulate(t, "describe", dir)
	for _, want := range []string{"setup 1676375682:", "setup 1676388535:", "setup 1676389085:",
		"frontend>checkout", "frontend>supportedcurrencies", "addcartitem>cartkvstorage", "frontend->currency", "11x17"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out = mustSimulate(t, "describe", "--setup", "1676389085", dir)
	if strings.Contains(out, "setup 1676375682") || !strings.Contains(out, "checkout  1536") {
		t.Errorf("--setup 1676389085:\n%s", out)
	}
	for _, args := range [][]string{{"describe", "--setup", "42", dir}, {"describe"}} {
		if _, err := simulate(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if _, err := simulate(t, "describe", "/nonexistent"); err == nil {
		t.Error("describe /nonexistent: no error")
	}
}
