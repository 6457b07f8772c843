package results

import (
	"fmt"
	"os"
	"path/filepath"
)

// CommitFiles renames the stage into place as it is, for results
// directories of other layouts whose writer put every file into Dir itself
// (a sweep's): manifest.json must be there, written last.
func (s *Stage) CommitFiles() error {
	if _, err := os.Stat(filepath.Join(s.tmp, ManifestFile)); err != nil {
		s.Abort()
		return fmt.Errorf("results directory %s: no %s written: %w", s.dir, ManifestFile, err)
	}
	if err := s.rename(); err != nil {
		s.Abort()
		return err
	}
	return nil
}
