package load

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
)

// Template is a request body of a scenario: JSON values, some of them
// drawn when the load is made or filled in when the request is sent. In a
// file, a mapping whose only key starts with "$" is a directive:
//
//	{$pick: [a, b, c]}       one item of the list, uniformly at random
//	{$int: [1, 20]}          an integer uniformly in [1, 20]
//	{$user: int}             the number of the virtual user sending it
//	                         (1, 2, ...; 0 in the setup phase); string: as a string
//	{$iteration: int}        the iteration's number (0, 1, ... in start
//	                         order, dropped ones included); string: as a string
//
// Everything else is a constant. Random figures are drawn from the run's
// seeded source when the load is made, so that a body does not depend on
// timing; $user is filled in when the request is sent, by the user the
// iteration got.
type Template struct {
	op       templateOp
	lit      any         // opLiteral: nil, bool, int, float64 or string
	keys     []string    // opObject, in document order
	elems    []*Template // opObject values, opList items, opPick choices
	min, max int64       // opInt, inclusive
	asString bool        // opUser, opIteration
}

type templateOp uint8

const (
	opLiteral templateOp = iota
	opObject
	opList
	opPick
	opInt
	opUser
	opIteration
)

// Directives of a template.
const (
	dirPick      = "$pick"
	dirInt       = "$int"
	dirUser      = "$user"
	dirIteration = "$iteration"
)

// maxSafeInt bounds the integers of $int: 2^53, exact in JSON readers
// that hold numbers as doubles (the Node.js tasks of the prototype).
const maxSafeInt = 1 << 53

// userRef stands for the virtual user's number until the request is sent.
type userRef struct{ asString bool }

// draw renders the template for one request of the given iteration (-1:
// the setup phase), drawing its random figures from rng; the virtual user's
// number is left as a userRef, and withUser says whether there is one. A
// nil template is {}.
func (t *Template) draw(rng *rand.Rand, iteration int) (v any, withUser bool) {
	if t == nil {
		return map[string]any{}, false
	}
	switch t.op {
	case opObject:
		m := make(map[string]any, len(t.keys))
		for i, k := range t.keys {
			x, u := t.elems[i].draw(rng, iteration)
			m[k] = x
			withUser = withUser || u
		}
		return m, withUser
	case opList:
		l := make([]any, len(t.elems))
		for i, e := range t.elems {
			x, u := e.draw(rng, iteration)
			l[i] = x
			withUser = withUser || u
		}
		return l, withUser
	case opPick:
		return t.elems[rng.IntN(len(t.elems))].draw(rng, iteration)
	case opInt:
		// max-min+1 fits: both are within +-2^53.
		return int(t.min + rng.Int64N(t.max-t.min+1)), false
	case opUser:
		return userRef{t.asString}, true
	case opIteration:
		if t.asString {
			return strconv.Itoa(iteration), false
		}
		return iteration, false
	}
	return t.lit, false
}

// fillUser copies v with every userRef replaced by vu.
func fillUser(v any, vu int) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = fillUser(e, vu)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fillUser(e, vu)
		}
		return l
	case userRef:
		if x.asString {
			return strconv.Itoa(vu)
		}
		return vu
	}
	return v
}

// usesIteration reports whether the template has an $iteration directive.
func (t *Template) usesIteration() bool {
	if t == nil {
		return false
	}
	if t.op == opIteration {
		return true
	}
	for _, e := range t.elems {
		if e.usesIteration() {
			return true
		}
	}
	return false
}

// MarshalJSON writes the template as a file gives it (directives included,
// object keys in document order), a form DecodeScenario reads back.
func (t *Template) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := t.writeJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (t *Template) writeJSON(b *bytes.Buffer) error {
	if t == nil {
		b.WriteString("{}")
		return nil
	}
	typ := func() string {
		if t.asString {
			return `"string"`
		}
		return `"int"`
	}
	switch t.op {
	case opObject:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if err := t.elems[i].writeJSON(b); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case opList, opPick:
		if t.op == opPick {
			b.WriteString(`{"` + dirPick + `":`)
		}
		b.WriteByte('[')
		for i, e := range t.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := e.writeJSON(b); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		if t.op == opPick {
			b.WriteByte('}')
		}
	case opInt:
		b.WriteString(`{"` + dirInt + `":[` + strconv.FormatInt(t.min, 10) + "," + strconv.FormatInt(t.max, 10) + "]}")
	case opUser:
		b.WriteString(`{"` + dirUser + `":` + typ() + "}")
	case opIteration:
		b.WriteString(`{"` + dirIteration + `":` + typ() + "}")
	default:
		lb, err := json.Marshal(t.lit)
		if err != nil {
			return err
		}
		b.Write(lb)
		if _, ok := t.lit.(float64); ok && !bytes.ContainsAny(lb, ".eE") {
			b.WriteString(".0") // stays a float when read back
		}
	}
	return nil
}
