package fusionsim

import (
	"errors"
	"fmt"
)

// MaxSetupNameLen is the longest setup name, in bytes.
const MaxSetupNameLen = 64

// ErrSetupName is wrapped by every error of ValidateSetupName.
var ErrSetupName = errors.New("bad setup name")

// ValidateSetupName is the one rule for what a setup name may be, checked
// wherever a name enters (configuration metadata, the group syntax
// NAME=..., the HTTP emulator, trace files and log lines): 1 to
// MaxSetupNameLen letters, digits and underscores. The prototype's names
// are Unix seconds ("1675344670") and short words ("a_remote",
// "c_optimal"). A name is a file name (traces/<name>.json), the first part
// of every trace id ("<name>-<task>-<MB>-<hex>", hence no '-'), and a JSON
// key and value, so nothing else is allowed.
func ValidateSetupName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrSetupName)
	}
	if len(name) > MaxSetupNameLen {
		return fmt.Errorf("%w: %q is longer than %d bytes", ErrSetupName, name, MaxSetupNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return fmt.Errorf("%w: %q: character %q not allowed (letters, digits and _ only)", ErrSetupName, name, rune(c))
		}
	}
	return nil
}

// IsNumericName reports whether name is a non-negative integer in
// canonical form (digits without a leading zero, or "0"): the names the
// prototype's optimizer wrote as JSON numbers. "007" is not one: it is a
// string name, and stays one.
func IsNumericName(name string) bool {
	if name == "" || (name[0] == '0' && len(name) > 1) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return true
}

// compareNumericNames orders two numeric names (IsNumericName) by value.
func compareNumericNames(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
