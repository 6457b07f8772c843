package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/optimizer"
	"github.com/fusionsim/fusionsim/sweep"
	"github.com/fusionsim/fusionsim/trace"
)

// compareState keeps what a comparison finished, so that an interrupted or
// failed "simulate compare" goes on where it stopped when run again: every
// evaluated setup of the exhaustive sweep (a sweep.Journal, flushed every
// few seconds and on the way out) and every finished closed loop (one file
// each). It lives in a hidden directory beside --out (.<out>.partial), or
// in results/.compare-<workload>-<hash>.partial without --out, and is
// removed once the comparison is written.
type compareState struct {
	dir       string
	id        string
	journal   *sweep.Journal
	lastFlush time.Time
	newParent bool // the state's parent directory was made for it
}

const compareStateFile = "compare.json"

// compareIdentity hashes what the comparison's figures depend on: a state
// of other flags is not reused.
func compareIdentity(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func openCompareState(out, workload, id string) (*compareState, error) {
	dir := filepath.Join("results", fmt.Sprintf(".compare-%s-%.12s.partial", workload, id))
	if out != "" {
		dir = sweep.PartialDir(out)
	}
	st := &compareState{dir: dir, id: id, lastFlush: time.Now()}
	path := filepath.Join(dir, compareStateFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var head struct{ ID string }
		if json.Unmarshal(data, &head) != nil || head.ID != id {
			return nil, usageError("%s holds the kept work of a comparison with other flags: remove it to start over, or give the same flags to resume it", dir)
		}
	case errors.Is(err, os.ErrNotExist):
		if _, err := os.Stat(filepath.Dir(dir)); errors.Is(err, os.ErrNotExist) {
			st.newParent = true
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(struct{ ID string }{id})
		if err := trace.WriteFileAtomic(path, b); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return st, nil
}

// loopFile keeps one finished closed loop.
type loopFile struct {
	Row   *compareRow
	Final *fusionsim.Setup
}

func (s *compareState) loopPath(name string) string {
	return filepath.Join(s.dir, "loop-"+name+".json")
}

// loop returns a closed loop kept from an earlier run.
func (s *compareState) loop(name string) (*compareRow, *fusionsim.Setup, bool) {
	data, err := os.ReadFile(s.loopPath(name))
	if err != nil {
		return nil, nil, false
	}
	var lf loopFile
	if json.Unmarshal(data, &lf) != nil || lf.Row == nil || lf.Row.Optimizer != name {
		return nil, nil, false
	}
	return lf.Row, lf.Final, true
}

func (s *compareState) saveLoop(name string, row *compareRow, final *fusionsim.Setup) error {
	b, err := json.Marshal(loopFile{Row: row, Final: final})
	if err != nil {
		return err
	}
	return trace.WriteFileAtomic(s.loopPath(name), b)
}

// exhaustive makes sw skip the setups kept and keep the ones it evaluates;
// it returns how many were kept.
func (s *compareState) exhaustive(sw *optimizer.Sweep, total int) (int, error) {
	j, err := sweep.OpenJournal(s.dir, s.id, "exhaustive", total)
	if err != nil {
		return 0, err
	}
	s.journal = j
	kept := j.Done()
	n := len(kept)
	sw.Kept = func(i int) (optimizer.Metrics, bool) {
		m, ok := kept[i]
		return m, ok
	}
	sw.Finished = func(i int, m optimizer.Metrics) {
		j.Add(i, m)
		if j.Pending() >= 2000 || time.Since(s.lastFlush) >= 2*time.Second {
			s.lastFlush = time.Now()
			j.Flush() // an error here shows again at the final flush
		}
	}
	return n, nil
}

// finish removes the state after a comparison that succeeded; after one
// that failed it flushes what was finished and says where it is.
func (s *compareState) finish(err error) error {
	if err == nil {
		return s.remove()
	}
	if s.journal != nil {
		if ferr := s.journal.Flush(); ferr != nil {
			return fmt.Errorf("%w (and keeping the finished setups failed: %v)", err, ferr)
		}
	}
	loops, _ := filepath.Glob(filepath.Join(s.dir, "loop-*.json"))
	if len(loops) == 0 && (s.journal == nil || len(s.journal.Done()) == 0) {
		s.remove() // nothing finished: nothing to keep
		return err
	}
	return fmt.Errorf("%w\nthe finished closed loops and sweep setups are kept in %s: run the same command again to resume", err, s.dir)
}

func (s *compareState) remove() error {
	err := os.RemoveAll(s.dir)
	if s.newParent {
		os.Remove(filepath.Dir(s.dir)) // only if still empty
	}
	return err
}

// appIdentity adds an application file's digest to what identifies a
// piece of resumable work (a changed file is another application); Go
// workloads keep the identity they had.
func appIdentity(id []any, spec *appfile.Spec) []any {
	if spec == nil {
		return id
	}
	return append(id, "app file sha256 "+spec.Digest)
}
