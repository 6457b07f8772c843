package appfile

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fusionsim/fusionsim"
)

// TestExpressions evaluates expressions as a step sees them: JavaScript's
// operators and truthiness, missing fields as undefined (left out of
// objects), Go's Event.Int and Event.Float for int() and float(), and
// errors that say what was wrong.
func TestExpressions(t *testing.T) {
	in := fusionsim.Event{"id": 7, "f": 2.5, "s": "get", "n": nil, "list": []any{1, "b"},
		"obj": map[string]any{"k": "v"}, "jsonInt": float64(42)}
	vars := map[string]any{"event": in, "items": []any{fusionsim.Event{"key": 1}}, "zero": 0}
	cases := []struct{ expr, want string }{
		{"$event.id", "7"},
		{"${event.id + 1}", "8"},
		{"${event.id - 10}", "-3"},
		{"${event.id * event.f}", "17.5"},
		{"${event.id / 2}", "3.5"},
		{"${event.id % 4}", "3"},
		{"${-event.id}", "-7"},
		{"${event.s == 'get'}", "true"},
		{`${event.s != "get"}`, "false"},
		{"${event.id > 6 && event.id <= 7}", "true"},
		{"${'a' < 'b'}", "true"},
		{"${event.missing ?? 5}", "5"},
		{"${event.n ?? 'null too'}", `"null too"`},
		{"${event.id ?? 5}", "7"},
		{"${defined(event.missing) ? 1 : 2}", "2"},
		{"${defined(event.n)}", "true"},
		{"${!event.missing}", "true"},
		{"${event.missing || 'or'}", `"or"`},
		{"${len(items)}", "1"},
		{"${len(event.missing)}", "0"},
		{"${len(event.s)}", "3"},
		{"${len(event.obj)}", "1"},
		{"${items[0].key}", "1"},
		{"${event.list[1]}", `"b"`},
		{"${event.list[5]}", "undefined"},
		{"${event['s']}", `"get"`},
		{"$event.obj.k", `"v"`},
		{"$event.missing.deeper", "undefined"},
		{"${int(event.f, 0)}", "2"},
		{"${int(event.jsonInt, 0)}", "42"},
		{"${int(event.s, 9)}", "9"},
		{"${int(event.missing, 9)}", "9"},
		{"${float(event.id, 0)}", "7"},
		{"${float(event.s, 0.5)}", "0.5"},
		{"${string(event.list)}", `"[1,\"b\"]"`},
		{"${format('%v %.3f', event.s, event.f)}", `"get 2.500"`},
		{"${format('%v', event.missing)}", `"\u003cnil\u003e"`},
		{"${min(3, event.id)}", "3"},
		{"${max(3, event.id)}", "7"},
		{"id ${event.id}, f ${event.f}, ${event.list}", `"id 7, f 2.5, [1,\"b\"]"`},
		{"${1e21} ${0.1 + 0.2} ${1/3}", `"1e+21 0.30000000000000004 0.3333333333333333"`},
		{"costs $5", `"costs $5"`},
		{"$$event", `"$event"`},
		{"pay $${event.id}", `"pay ${event.id}"`},
		{"${zero ? 'yes' : 'no'}", `"no"`},
		{"${'s' + event.id}", `"s7"`},
		{"${(1 + 2) * 3}", "9"},
		{"${1_000 + .5}", "1000.5"},
	}
	for _, c := range cases {
		n, err := parseString(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		v, err := eval(n, &scope{vars: vars})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got := "undefined"
		if v != undefined {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	// Objects leave out undefined values; lists make them null.
	n := objNode{keys: []string{"a", "b"}, vals: []node{litNode{1}, refNode("$event.missing")}}
	v, _ := eval(n, &scope{vars: vars})
	if b, _ := json.Marshal(v); string(b) != `{"a":1}` {
		t.Errorf("object with an undefined value: %s", b)
	}
	v, _ = eval(listNode{elems: []node{refNode("$event.missing")}}, &scope{vars: vars})
	if b, _ := json.Marshal(v); string(b) != `[null]` {
		t.Errorf("list with an undefined value: %s", b)
	}

	errs := []struct{ expr, want string }{
		{"${event.s - 1}", `event.s - 1: event.s is "get", not a number`},
		{"${event.missing + 1}", `event.missing + 1: event.missing is undefined, not a number`},
		{"${int(event.s)}", `int(event.s): "get" is not a number`},
		{"${event.id % 0}", "remainder of a division by zero"},
		{"${random_int(5, 1)}", "random_int(5, 1): no integer between the bounds"},
		{"${choice(event.obj)}", "is not a list with items"},
		{"${len(event.id)}", "has no length"},
		{"${event.list[event.s]}", "a list index must be a number"},
	}
	for _, c := range errs {
		n, err := parseString(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		_, err = eval(n, &scope{vars: vars, rand: func() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.expr, err, c.want)
		}
	}
}

// TestRandomDraws: the random functions draw from the task's source as the
// Go code does (random_int(a, b) is a + IntN(b-a+1), normal(m, s) is
// NormFloat64()*s + m), in the order they are written.
func TestRandomDraws(t *testing.T) {
	src := rand.New(rand.NewPCG(5, 6))
	ref := rand.New(rand.NewPCG(5, 6))
	sc := &scope{vars: map[string]any{"l": []any{"x", "y", "z"}}, rand: func() *rand.Rand { return src }}
	for _, c := range []struct {
		expr string
		want any
	}{
		{"${random_int(0, 100)}", ref.IntN(101)},
		{"${normal(-10, 50)}", ref.NormFloat64()*50 - 10},
		{"${uniform(2, 4)}", 2 + ref.Float64()*2},
		{"${choice(l)}", []string{"x", "y", "z"}[ref.IntN(3)]},
		{"${random_int(-3, -3)}", -3 + ref.IntN(1)},
	} {
		n, err := parseString(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		v, err := eval(n, sc)
		if err != nil || v != c.want {
			t.Errorf("%s = %v (%v), want %v", c.expr, v, err, c.want)
		}
	}
}
