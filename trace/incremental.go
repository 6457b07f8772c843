package trace

import "errors"

// Completed hands fn the record of every invocation that has completed
// (its REPORT and init lines were added) since the last call, keyed with
// its request id (SortKeyed orders them as Finish does), and forgets those invocations, so that an extractor fed a
// growing log can be asked for its records again and again without reading
// any line twice (cmd/emulator's live traces). Invocations still open stay
// for later lines; Finish reports the ones never completed. Lines of a
// completed invocation added later start a new one (a problem at Finish).
// The counters (Lines, Malformed, Invocations, ...) count on. It does not
// work with Options.GroupByFunction, whose records merge invocations.
func (x *Extractor) Completed(fn func(KeyedRecord)) error {
	if x.opt.GroupByFunction {
		return errors.New("trace: Extractor.Completed with GroupByFunction: records of a (trace, function) group need all of its invocations")
	}
	open := x.order[:0]
	var done []*invocation
	for _, e := range x.order {
		if !e.live() {
			continue
		}
		if inv := e.inv; inv.report == nil || !inv.haveInit {
			open = append(open, e)
			continue
		}
		done = append(done, e.inv)
		x.forget(e.inv)
	}
	clear(x.order[len(open):])
	x.order = open
	done, keyed := x.valid(done)
	x.ext.Invocations += len(done)
	for _, k := range keyed {
		fn(k)
	}
	return nil
}

// Open is the number of invocations the extractor holds: running, or
// lacking lines (no REPORT, no init) until Finish reports them.
func (x *Extractor) Open() int {
	n := 0
	for _, e := range x.order {
		if e.live() {
			n++
		}
	}
	return n
}

// Counts are the extraction's counters so far (its Traces and Problems are
// filled in by Finish).
func (x *Extractor) Counts() Extraction {
	e := x.ext
	e.Traces, e.Problems = nil, nil
	return e
}
