package lambdaapi

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// Small assertions that stop the test, so that the tests need nothing
// beyond the standard library.

func must(t testing.TB, err error, context ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%sunexpected error: %v", prefix(context), err)
	}
}

func equal(t testing.TB, want, got any, context ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%swant %#v\n got %#v", prefix(context), want, got)
	}
}

func contains(t testing.TB, s any, sub string, context ...any) {
	t.Helper()
	str := fmt.Sprint(s)
	if b, ok := s.([]byte); ok {
		str = string(b)
	}
	if !strings.Contains(str, sub) {
		t.Fatalf("%s%q does not contain %q", prefix(context), clip(str), sub)
	}
}

func notContains(t testing.TB, s, sub string, context ...any) {
	t.Helper()
	if strings.Contains(s, sub) {
		t.Fatalf("%s%q contains %q", prefix(context), clip(s), sub)
	}
}

func matches(t testing.TB, pattern, s string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(s) {
		t.Fatalf("%q does not match %s", clip(s), pattern)
	}
}

func check(t testing.TB, ok bool, context ...any) {
	t.Helper()
	if !ok {
		t.Fatalf("%scheck failed", prefix(context))
	}
}

func prefix(context []any) string {
	if len(context) == 0 {
		return ""
	}
	if f, ok := context[0].(string); ok {
		return fmt.Sprintf(f, context[1:]...) + ": "
	}
	return fmt.Sprint(context...) + ": "
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + " ... " + s[len(s)-1000:]
	}
	return s
}
