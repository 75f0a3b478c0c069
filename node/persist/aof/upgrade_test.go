package aof

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestNeedsUpgrade(t *testing.T) {
	const name = "appendonly.aof"
	legacyBase := &Manifest{Base: &FileInfo{Name: name, Seq: 1, Type: Base}}
	multiPart := &Manifest{Base: &FileInfo{Name: name + ".1.base.rdb", Seq: 1, Type: Base},
		Incrs: []FileInfo{{Name: name + ".1.incr.aof", Seq: 1, Type: Incr}}}
	tests := []struct {
		name         string
		legacy       bool // appendonly.aof in the server's directory
		dir          bool // appendonlydir exists
		inDir        bool // appendonlydir/appendonly.aof exists
		manifest     *Manifest
		wantUpgraded bool
	}{
		{"no legacy file", false, false, false, nil, false},
		{"no AOF directory", true, false, false, nil, true},
		{"directory without manifest", true, true, false, nil, true},
		{"interrupted after the manifest", true, true, false, legacyBase, true},
		{"already moved", true, true, true, legacyBase, false},
		{"a multi-part AOF beside a stray file", true, true, false, multiPart, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			legacy, dir := filepath.Join(root, name), filepath.Join(root, "appendonlydir")
			if tt.legacy {
				writeFile(t, legacy, "*1\r\n$4\r\nPING\r\n")
			}
			if tt.dir {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.inDir {
				writeFile(t, filepath.Join(dir, name), "")
			}
			if got := NeedsUpgrade(legacy, dir, name, tt.manifest); got != tt.wantUpgraded {
				t.Fatalf("NeedsUpgrade = %v, want %v", got, tt.wantUpgraded)
			}
		})
	}
}

func TestUpgradeMovesTheFileAndWritesTheManifest(t *testing.T) {
	const name = "appendonly.aof"
	root := t.TempDir()
	legacy, dir := filepath.Join(root, name), filepath.Join(root, "appendonlydir")
	content := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	writeFile(t, legacy, content)
	m, err := Upgrade(legacy, dir, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{Base: &FileInfo{Name: name, Seq: 1, Type: Base}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("manifest %+v, want %+v", m, want)
	}
	onDisk, err := LoadManifest(dir, name)
	if err != nil || !reflect.DeepEqual(onDisk, want) {
		t.Fatalf("manifest on disk %+v, %v", onDisk, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != content {
		t.Fatalf("moved file holds %q", got)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Fatalf("the old file is still there: %v", err)
	}
	if NeedsUpgrade(legacy, dir, name, onDisk) {
		t.Fatal("an upgraded directory still needs an upgrade")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
