package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Before Redis 7.0 the AOF was one file, appendfilename in the server's directory, that
// a rewrite replaced whole (with an RDB preamble or not). Redis 7.0 starting on such a
// directory moves that file into the AOF directory as the base of a manifest and appends
// to a new increment file from then on (aof.c aofUpgradePrepare); these functions do the
// same, so a data directory of Redis 4, 5 or 6 keeps working here.

// NeedsUpgrade reports whether the start-up should upgrade the single-file AOF at
// legacyPath into dir, by Redis 7.0's three cases: the file exists and either dir does
// not, or dir has no manifest (m nil or empty), or dir's manifest names the legacy file
// alone as its base while that file is not in dir yet (an upgrade interrupted between the
// manifest and the move).
func NeedsUpgrade(legacyPath, dir, appendFilename string, m *Manifest) bool {
	if st, err := os.Stat(legacyPath); err != nil || !st.Mode().IsRegular() {
		return false
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return true
	}
	if m == nil || m.Empty() {
		return true
	}
	if m.Base != nil && m.Base.Name == appendFilename && len(m.Incrs) == 0 {
		_, err := os.Stat(filepath.Join(dir, appendFilename))
		return errors.Is(err, os.ErrNotExist)
	}
	return false
}

// Upgrade moves the single-file AOF at legacyPath into dir as the base (seq 1) of a new
// manifest and returns that manifest, in Redis's crash-safe order: dir created, manifest
// written, then the file moved; a crash at any point leaves a state NeedsUpgrade
// recognises, and the next start finishes the job. History files m names are kept.
func Upgrade(legacyPath, dir, appendFilename string, m *Manifest) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the AOF directory %s: %w", dir, err)
	}
	nm := &Manifest{Base: &FileInfo{Name: appendFilename, Seq: 1, Type: Base}}
	if m != nil {
		nm.History = append(nm.History, m.History...)
	}
	if err := WriteManifest(dir, appendFilename, nm); err != nil {
		return nil, err
	}
	if err := os.Rename(legacyPath, filepath.Join(dir, appendFilename)); err != nil {
		return nil, fmt.Errorf("move the old AOF file %s into the AOF directory %s: %w", legacyPath, dir, err)
	}
	if err := SyncDir(dir); err != nil {
		return nil, err
	}
	if err := SyncDir(filepath.Dir(legacyPath)); err != nil {
		return nil, err
	}
	return nm, nil
}
