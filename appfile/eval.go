package appfile

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// scope is what an expression sees: the variables (event and those set by
// earlier steps), index and the task's random source.
type scope struct {
	vars  map[string]any
	index any // the copy's number in a fan-out, else undefined (nil: none)
	rand  func() *rand.Rand
}

func (s *scope) lookup(name string) any {
	if name == "index" && s.index != nil { // reserved: no variable is called index
		return s.index
	}
	if v, ok := s.vars[name]; ok {
		return v
	}
	return undefined
}

// eval computes n. Errors say what went wrong; the caller adds where.
func eval(n node, s *scope) (any, error) {
	switch n := n.(type) {
	case litNode:
		return n.v, nil
	case nameNode:
		return s.lookup(n.name), nil
	case memberNode:
		x, err := eval(n.x, s)
		if err != nil {
			return nil, err
		}
		if n.idx == nil {
			return member(x, n.name), nil
		}
		idx, err := eval(n.idx, s)
		if err != nil {
			return nil, err
		}
		return index(x, idx)
	case unaryNode:
		x, err := eval(n.x, s)
		if err != nil {
			return nil, err
		}
		if n.op == "!" {
			return !truthy(x), nil
		}
		switch v := x.(type) {
		case int:
			return -v, nil
		case float64:
			return -v, nil
		}
		return nil, fmt.Errorf("-%s: %s is not a number", exprString(n.x), describe(x))
	case binNode:
		return evalBinary(n, s)
	case condNode:
		c, err := eval(n.c, s)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return eval(n.a, s)
		}
		return eval(n.b, s)
	case callNode:
		return evalCall(n, s)
	case objNode:
		obj := make(fusionsim.Event, len(n.keys))
		for i, k := range n.keys {
			v, err := eval(n.vals[i], s)
			if err != nil {
				return nil, err
			}
			if v != undefined {
				obj[k] = v
			}
		}
		return obj, nil
	case listNode:
		list := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := eval(e, s)
			if err != nil {
				return nil, err
			}
			if v == undefined {
				v = nil // JSON.stringify writes null for undefined in arrays
			}
			list[i] = v
		}
		return list, nil
	case tmplNode:
		var b strings.Builder
		for _, p := range n.parts {
			v, err := eval(p, s)
			if err != nil {
				return nil, err
			}
			b.WriteString(text(v))
		}
		return b.String(), nil
	}
	return nil, fmt.Errorf("unknown expression %T", n)
}

// member is x.name: a field of an object, undefined otherwise (also for
// undefined and null, as JavaScript's x?.name).
func member(x any, name string) any {
	if m, ok := asObject(x); ok {
		if v, ok := m[name]; ok {
			return v
		}
	}
	return undefined
}

func index(x, idx any) (any, error) {
	if m, ok := asObject(x); ok {
		k, ok := idx.(string)
		if !ok {
			return nil, fmt.Errorf("an object's field name must be a string, not %s", describe(idx))
		}
		return member(m, k), nil
	}
	if l, ok := x.([]any); ok {
		i, ok := toInt(idx)
		if !ok {
			return nil, fmt.Errorf("a list index must be a number, not %s", describe(idx))
		}
		if i < 0 || i >= len(l) {
			return undefined, nil
		}
		return l[i], nil
	}
	return undefined, nil
}

func asObject(x any) (map[string]any, bool) {
	switch m := x.(type) {
	case fusionsim.Event:
		return m, true
	case map[string]any:
		return m, true
	}
	return nil, false
}

// truthy is JavaScript's truthiness.
func truthy(x any) bool {
	switch v := x.(type) {
	case nil, undefinedType:
		return false
	case bool:
		return v
	case int:
		return v != 0
	case int64:
		return v != 0
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

// number returns x as a float64 and whether it is an int.
func number(x any) (f float64, isInt bool, ok bool) {
	switch v := x.(type) {
	case int:
		return float64(v), true, true
	case int64:
		return float64(v), true, true
	case float64:
		return v, false, true
	}
	return 0, false, false
}

// toInt is Event.Int without a default: numbers truncated.
func toInt(x any) (int, bool) {
	switch v := x.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || v >= 1<<63 || v < -(1<<63) {
			return 0, false
		}
		return int(v), true
	}
	return 0, false
}

func evalBinary(n binNode, s *scope) (any, error) {
	l, err := eval(n.l, s)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "??":
		if l != undefined && l != nil {
			return l, nil
		}
		return eval(n.r, s)
	case "&&":
		if !truthy(l) {
			return l, nil
		}
		return eval(n.r, s)
	case "||":
		if truthy(l) {
			return l, nil
		}
		return eval(n.r, s)
	}
	r, err := eval(n.r, s)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "+":
		ls, lstr := l.(string)
		rs, rstr := r.(string)
		if lstr || rstr {
			if !lstr {
				ls = text(l)
			}
			if !rstr {
				rs = text(r)
			}
			return ls + rs, nil
		}
	case "<", "<=", ">", ">=":
		if ls, ok := l.(string); ok {
			if rs, ok := r.(string); ok {
				c := strings.Compare(ls, rs)
				return compare(n.op, float64(c), 0), nil
			}
		}
	}
	lf, lint, lok := number(l)
	rf, rint, rok := number(r)
	if !lok || !rok {
		bad, side := l, exprString(n.l)
		if lok {
			bad, side = r, exprString(n.r)
		}
		return nil, fmt.Errorf("%s %s %s: %s is %s, not a number", exprString(n.l), n.op, exprString(n.r), side, describe(bad))
	}
	switch n.op {
	case "<", "<=", ">", ">=":
		return compare(n.op, lf, rf), nil
	}
	if lint && rint {
		li, _ := toInt(l)
		ri, _ := toInt(r)
		switch n.op {
		case "+":
			return li + ri, nil
		case "-":
			return li - ri, nil
		case "*":
			return li * ri, nil
		case "%":
			if ri == 0 {
				return nil, fmt.Errorf("%s %% %s: remainder of a division by zero", exprString(n.l), exprString(n.r))
			}
			return li % ri, nil
		}
	}
	switch n.op {
	case "+":
		return lf + rf, nil
	case "-":
		return lf - rf, nil
	case "*":
		return lf * rf, nil
	case "/":
		return lf / rf, nil
	case "%":
		return math.Mod(lf, rf), nil
	}
	return nil, fmt.Errorf("unknown operator %s", n.op)
}

func compare(op string, a, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

// equal is JavaScript's ===, with numbers equal by value whatever their Go
// type, and objects and lists equal by content.
func equal(a, b any) bool {
	af, _, aok := number(a)
	bf, _, bok := number(b)
	if aok || bok {
		return aok && bok && af == bf
	}
	switch av := a.(type) {
	case nil:
		return b == nil
	case undefinedType:
		return b == undefined
	case bool, string:
		return a == b
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equal(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	am, aok := asObject(a)
	bm, bok := asObject(b)
	if !aok || !bok || len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		w, ok := bm[k]
		if !ok || !equal(v, w) {
			return false
		}
	}
	return true
}

func evalCall(n callNode, s *scope) (any, error) {
	args := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := eval(a, s)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	num := func(i int) (float64, error) {
		f, _, ok := number(args[i])
		if !ok {
			return 0, fmt.Errorf("%s: argument %d (%s) is %s, not a number", n.fn, i+1, exprString(n.args[i]), describe(args[i]))
		}
		return f, nil
	}
	switch n.fn {
	case "defined":
		return args[0] != undefined, nil
	case "len":
		switch v := args[0].(type) {
		case nil, undefinedType:
			return 0, nil
		case string:
			return len(v), nil
		case []any:
			return len(v), nil
		}
		if m, ok := asObject(args[0]); ok {
			return len(m), nil
		}
		return nil, fmt.Errorf("len(%s): %s has no length", exprString(n.args[0]), describe(args[0]))
	case "int":
		if i, ok := toInt(args[0]); ok {
			return i, nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return nil, fmt.Errorf("int(%s): %s is not a number", exprString(n.args[0]), describe(args[0]))
	case "float":
		if f, _, ok := number(args[0]); ok {
			return f, nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return nil, fmt.Errorf("float(%s): %s is not a number", exprString(n.args[0]), describe(args[0]))
	case "string":
		return text(args[0]), nil
	case "format":
		f, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("format: the format %s is not a string", describe(args[0]))
		}
		rest := make([]any, len(args)-1)
		for i, a := range args[1:] {
			if a == undefined {
				a = nil
			}
			rest[i] = a
		}
		return fmt.Sprintf(f, rest...), nil
	case "min", "max":
		a, err := num(0)
		if err != nil {
			return nil, err
		}
		b, err := num(1)
		if err != nil {
			return nil, err
		}
		if (n.fn == "min") == (a <= b) {
			return args[0], nil
		}
		return args[1], nil
	case "random_int":
		lo, lok := toInt(args[0])
		hi, hok := toInt(args[1])
		if !lok || !hok {
			return nil, fmt.Errorf("random_int(%s, %s): the bounds %s and %s must be numbers", exprString(n.args[0]), exprString(n.args[1]), describe(args[0]), describe(args[1]))
		}
		if hi < lo || hi-lo < 0 || hi-lo == math.MaxInt {
			return nil, fmt.Errorf("random_int(%d, %d): no integer between the bounds", lo, hi)
		}
		return lo + s.rand().IntN(hi-lo+1), nil
	case "uniform":
		a, err := num(0)
		if err != nil {
			return nil, err
		}
		b, err := num(1)
		if err != nil {
			return nil, err
		}
		return a + s.rand().Float64()*(b-a), nil
	case "normal":
		mean, err := num(0)
		if err != nil {
			return nil, err
		}
		sd, err := num(1)
		if err != nil {
			return nil, err
		}
		return s.rand().NormFloat64()*sd + mean, nil
	case "choice":
		l, ok := args[0].([]any)
		if !ok || len(l) == 0 {
			return nil, fmt.Errorf("choice(%s): %s is not a list with items", exprString(n.args[0]), describe(args[0]))
		}
		return l[s.rand().IntN(len(l))], nil
	}
	return nil, fmt.Errorf("unknown function %s", n.fn)
}

// text formats a value as a template does: strings as they are, numbers
// as JavaScript prints them, objects and lists as JSON.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	case undefinedType:
		return "undefined"
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatNumber(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// formatNumber prints f as JavaScript's Number.prototype.toString does
// for the usual range: the shortest digits that read back as f.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// describe names a value in error messages.
func describe(v any) string {
	switch v := v.(type) {
	case undefinedType:
		return "undefined"
	case nil:
		return "null"
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	case []any:
		return fmt.Sprintf("a list of %d", len(v))
	}
	if _, ok := asObject(v); ok {
		return "an object"
	}
	return text(v)
}
