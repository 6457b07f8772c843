package appfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// An expression is a value of an application file computed when a step runs:
// the event passed to a callee, a storage key, a fan-out's size, a branch's
// condition, the response. In YAML it is
//
//   - a literal: a number, a string, true, false, null, a list or a mapping
//     (an object; its values are expressions in turn);
//   - a reference, a string that is "$" and a name path: $event.sensorId, $id,
//     $jam.jam (event is the task's input, index the copy's number in a
//     fan-out, any other name a variable set by an earlier step);
//   - a string with ${...} parts: "${expr}" alone is the value of expr, of
//     any type; text around the parts makes a string (a template, as in
//     JavaScript: "signage ${event.location}"); "$$" is a literal "$".
//
// Inside ${...} the syntax is JavaScript's for what it has: names and
// member access (event.a.b, items[0]), numbers, 'strings' and "strings",
// true, false, null, undefined, + - * / %, == != < <= > >=, && || !, ??,
// c ? a : b, and the functions of the funcs table. A missing field is
// undefined, and an object leaves out the keys whose value is undefined
// (JSON.stringify does the same).

// node is a parsed expression.
type node interface{}

type (
	litNode    struct{ v any }
	nameNode   struct{ name string }
	memberNode struct {
		x    node
		name string // .name
		idx  node   // [idx], when name is ""
	}
	unaryNode struct {
		op string
		x  node
	}
	binNode struct {
		op   string
		l, r node
	}
	condNode struct{ c, a, b node }
	callNode struct {
		fn   string
		args []node
	}
	objNode struct {
		keys []string
		vals []node
	}
	listNode struct{ elems []node }
	// tmplNode concatenates its parts into a string.
	tmplNode struct{ parts []node }
)

// undefinedType is the type of undefined, JavaScript's missing value.
type undefinedType struct{}

// undefined is the value of a missing field or an unset variable.
var undefined = undefinedType{}

func (undefinedType) String() string { return "undefined" }

// funcs are the functions of ${...}, with their argument counts.
var funcs = map[string]struct {
	min, max int
	doc      string
}{
	"defined":    {1, 1, "defined(x): x is not undefined"},
	"len":        {1, 1, "len(x): the number of items of a list (a query's), keys of an object or bytes of a string; 0 for undefined and null"},
	"int":        {1, 2, "int(x, default): x as an integer (a number is truncated); default when x is no number (an error without default)"},
	"float":      {1, 2, "float(x, default): x as a number; default when x is no number"},
	"string":     {1, 1, "string(x): x as text (objects and lists as JSON)"},
	"format":     {1, 64, "format(f, args...): Go's fmt.Sprintf, e.g. format('%.3f', x)"},
	"min":        {2, 2, "min(a, b)"},
	"max":        {2, 2, "max(a, b)"},
	"random_int": {2, 2, "random_int(min, max): a uniform integer of min..max, both included, from the task's random source"},
	"uniform":    {2, 2, "uniform(min, max): a uniform number in [min, max) from the task's random source"},
	"normal":     {2, 2, "normal(mean, stddev): a normal number from the task's random source"},
	"choice":     {1, 1, "choice(list): a uniform item of list from the task's random source"},
}

// exprError is an error in an expression's text, at byte offset off.
type exprError struct {
	off int
	msg string
}

func (e *exprError) Error() string { return e.msg }

// token kinds.
const (
	tEOF = iota
	tNum
	tStr
	tName
	tOp
)

type token struct {
	kind int
	text string // operator or name text
	val  any    // number or string value
	off  int
}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'):
			j := i
			isFloat := false
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
				j++
			}
			if j < len(src) && src[j] == '.' {
				isFloat = true
				j++
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					isFloat = true
					j = k
					for j < len(src) && src[j] >= '0' && src[j] <= '9' {
						j++
					}
				}
			}
			text := strings.ReplaceAll(src[i:j], "_", "")
			var v any
			if isFloat {
				f, err := strconv.ParseFloat(text, 64)
				if err != nil {
					return nil, &exprError{i, fmt.Sprintf("bad number %q", src[i:j])}
				}
				v = f
			} else {
				n, err := strconv.ParseInt(text, 10, 64)
				if err != nil {
					return nil, &exprError{i, fmt.Sprintf("bad number %q", src[i:j])}
				}
				v = int(n)
			}
			out = append(out, token{kind: tNum, val: v, text: src[i:j], off: i})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == '\\' && j+1 < len(src) {
					switch src[j+1] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(src[j+1])
					}
					j += 2
					continue
				}
				if src[j] == c {
					closed = true
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, &exprError{i, "string not closed"}
			}
			out = append(out, token{kind: tStr, val: b.String(), off: i})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			out = append(out, token{kind: tName, text: src[i:j], off: i})
			i = j
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "&&", "||", "??", "+", "-", "*", "/", "%", "<", ">", "!", "?", ":", "(", ")", "[", "]", ".", ","} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &exprError{i, fmt.Sprintf("unexpected character %q", c)}
			}
			out = append(out, token{kind: tOp, text: op, off: i})
			i += len(op)
		}
	}
	return append(out, token{kind: tEOF, off: len(src)}), nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// maxExprDepth bounds the nesting of an expression.
const maxExprDepth = 64

type parser struct {
	toks  []token
	i     int
	depth int
}

// parseExpr parses the text of a ${...} part.
func parseExpr(src string) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &exprError{t.off, fmt.Sprintf("unexpected %s", t.describe())}
	}
	return n, nil
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tNum:
		return "number " + t.text
	case tStr:
		return fmt.Sprintf("string %q", t.val)
	case tName:
		return "name " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}
func (p *parser) expect(op string) error {
	if !p.isOp(op) {
		t := p.peek()
		return &exprError{t.off, fmt.Sprintf("expected %q, found %s", op, t.describe())}
	}
	p.i++
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return &exprError{p.peek().off, fmt.Sprintf("expression nested more than %d deep", maxExprDepth)}
	}
	return nil
}

func (p *parser) ternary() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	c, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if !p.isOp("?") {
		return c, nil
	}
	p.i++
	a, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	b, err := p.ternary()
	if err != nil {
		return nil, err
	}
	return condNode{c, a, b}, nil
}

// levels are the binary operators by precedence, lowest first.
var levels = [][]string{
	{"??"},
	{"||"},
	{"&&"},
	{"==", "!="},
	{"<", "<=", ">", ">="},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *parser) binary(level int) (node, error) {
	if level == len(levels) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !slices.Contains(levels[level], t.text) {
			return l, nil
		}
		p.i++
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		l = binNode{t.text, l, r}
	}
}

func (p *parser) unary() (node, error) {
	if p.isOp("!") || p.isOp("-") {
		op := p.next().text
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return unaryNode{op, x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.i++
			t := p.next()
			if t.kind != tName {
				return nil, &exprError{t.off, fmt.Sprintf("expected a field name after '.', found %s", t.describe())}
			}
			x = memberNode{x: x, name: t.text}
		case p.isOp("["):
			p.i++
			idx, err := p.ternary()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = memberNode{x: x, idx: idx}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum, tStr:
		return litNode{t.val}, nil
	case tName:
		switch t.text {
		case "true":
			return litNode{true}, nil
		case "false":
			return litNode{false}, nil
		case "null":
			return litNode{nil}, nil
		case "undefined":
			return litNode{undefined}, nil
		}
		if !p.isOp("(") {
			return nameNode{t.text}, nil
		}
		f, ok := funcs[t.text]
		if !ok {
			return nil, &exprError{t.off, fmt.Sprintf("unknown function %s (functions: %s)", t.text, strings.Join(sortedKeys(funcs), ", "))}
		}
		p.i++
		var args []node
		for !p.isOp(")") {
			if len(args) > 0 {
				if err := p.expect(","); err != nil {
					return nil, err
				}
			}
			a, err := p.ternary()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
		}
		p.i++
		if len(args) < f.min || len(args) > f.max {
			return nil, &exprError{t.off, fmt.Sprintf("%s takes %s, not %d (%s)", t.text, argCount(f.min, f.max), len(args), f.doc)}
		}
		return callNode{t.text, args}, nil
	case tOp:
		if t.text == "(" {
			if err := p.enter(); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			x, err := p.ternary()
			if err != nil {
				return nil, err
			}
			return x, p.expect(")")
		}
	}
	return nil, &exprError{t.off, fmt.Sprintf("unexpected %s", t.describe())}
}

func argCount(lo, hi int) string {
	switch {
	case lo == hi && lo == 1:
		return "1 argument"
	case lo == hi:
		return fmt.Sprintf("%d arguments", lo)
	case hi > 8:
		return fmt.Sprintf("at least %d argument(s)", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// isRef reports whether s is a reference: "$" and a name path.
func isRef(s string) bool {
	if len(s) < 2 || s[0] != '$' {
		return false
	}
	for _, part := range strings.Split(s[1:], ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isNameByte(part[i]) {
				return false
			}
		}
	}
	return true
}

// refNode turns "$a.b.c" into member accesses.
func refNode(s string) node {
	parts := strings.Split(s[1:], ".")
	var n node = nameNode{parts[0]}
	for _, p := range parts[1:] {
		n = memberNode{x: n, name: p}
	}
	return n
}

// parseString parses a string of the file: a reference, a template or a
// literal. off, in the error, is the offset in s.
func parseString(s string) (node, error) {
	if isRef(s) {
		return refNode(s), nil
	}
	if !strings.Contains(s, "$") {
		return litNode{s}, nil
	}
	var parts []node
	var lit strings.Builder
	i := 0
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			lit.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${"):
			end := closingBrace(s, i+2)
			if end < 0 {
				return nil, &exprError{i, "${ without its closing }"}
			}
			n, err := parseExpr(s[i+2 : end])
			if err != nil {
				if ee, ok := err.(*exprError); ok {
					return nil, &exprError{i + 2 + ee.off, ee.msg}
				}
				return nil, err
			}
			if lit.Len() > 0 {
				parts = append(parts, litNode{lit.String()})
				lit.Reset()
			}
			parts = append(parts, n)
			i = end + 1
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, litNode{lit.String()})
	}
	switch {
	case len(parts) == 0:
		return litNode{""}, nil
	case len(parts) == 1:
		if l, ok := parts[0].(litNode); ok {
			return l, nil
		}
		if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
			return parts[0], nil // "${expr}" alone: its value, of any type
		}
	}
	return tmplNode{parts}, nil
}

// closingBrace finds the } that closes a ${ whose content starts at i,
// skipping quoted strings and nested braces.
func closingBrace(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch c := s[i]; c {
		case '\'', '"':
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		}
		i++
	}
	return -1
}

// names lists the root names an expression refers to (not function names).
func names(n node, out map[string]bool) {
	switch n := n.(type) {
	case nameNode:
		out[n.name] = true
	case memberNode:
		names(n.x, out)
		if n.idx != nil {
			names(n.idx, out)
		}
	case unaryNode:
		names(n.x, out)
	case binNode:
		names(n.l, out)
		names(n.r, out)
	case condNode:
		names(n.c, out)
		names(n.a, out)
		names(n.b, out)
	case callNode:
		for _, a := range n.args {
			names(a, out)
		}
	case objNode:
		for _, v := range n.vals {
			names(v, out)
		}
	case listNode:
		for _, e := range n.elems {
			names(e, out)
		}
	case tmplNode:
		for _, p := range n.parts {
			names(p, out)
		}
	}
}

// usesRandom reports whether an expression draws from the random source.
func usesRandom(n node) bool {
	switch n := n.(type) {
	case memberNode:
		return usesRandom(n.x) || n.idx != nil && usesRandom(n.idx)
	case unaryNode:
		return usesRandom(n.x)
	case binNode:
		return usesRandom(n.l) || usesRandom(n.r)
	case condNode:
		return usesRandom(n.c) || usesRandom(n.a) || usesRandom(n.b)
	case callNode:
		switch n.fn {
		case "random_int", "uniform", "normal", "choice":
			return true
		}
		for _, a := range n.args {
			if usesRandom(a) {
				return true
			}
		}
	case objNode:
		for _, v := range n.vals {
			if usesRandom(v) {
				return true
			}
		}
	case listNode:
		for _, e := range n.elems {
			if usesRandom(e) {
				return true
			}
		}
	case tmplNode:
		for _, p := range n.parts {
			if usesRandom(p) {
				return true
			}
		}
	}
	return false
}

// String writes an expression back in ${...} syntax, for listings.
func exprString(n node) string {
	switch n := n.(type) {
	case litNode:
		switch v := n.v.(type) {
		case string:
			return strconv.Quote(v)
		case nil:
			return "null"
		}
		return fmt.Sprint(n.v)
	case nameNode:
		return n.name
	case memberNode:
		if n.idx != nil {
			return exprString(n.x) + "[" + exprString(n.idx) + "]"
		}
		return exprString(n.x) + "." + n.name
	case unaryNode:
		return n.op + exprString(n.x)
	case binNode:
		return exprString(n.l) + " " + n.op + " " + exprString(n.r)
	case condNode:
		return exprString(n.c) + " ? " + exprString(n.a) + " : " + exprString(n.b)
	case callNode:
		args := make([]string, len(n.args))
		for i, a := range n.args {
			args[i] = exprString(a)
		}
		return n.fn + "(" + strings.Join(args, ", ") + ")"
	case objNode:
		parts := make([]string, len(n.keys))
		for i, k := range n.keys {
			parts[i] = k + ": " + exprString(n.vals[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case listNode:
		parts := make([]string, len(n.elems))
		for i, e := range n.elems {
			parts[i] = exprString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case tmplNode:
		var b strings.Builder
		b.WriteByte('`')
		for _, p := range n.parts {
			if l, ok := p.(litNode); ok {
				if s, ok := l.v.(string); ok {
					b.WriteString(s)
					continue
				}
			}
			b.WriteString("${" + exprString(p) + "}")
		}
		b.WriteByte('`')
		return b.String()
	}
	return "?"
}
