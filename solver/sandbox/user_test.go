package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const (
	testPasswd = "root:x:0:0:root:/root:/bin/sh\n" +
		"# a comment\n" +
		"\n" +
		"app:x:1000:1000:app:/home/app:/bin/sh\n" +
		"broken:x:notanumber:1:::\n" +
		"short:x\n"
	testGroup = "root:x:0:\n" +
		"app:x:1000:\n" +
		"extra:x:2000:app\n" +
		"more:x:3000:someone, app\n" +
		"other:x:4000:someone\n"
)

// writeUserFiles writes /etc/passwd and /etc/group into root.
func writeUserFiles(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "etc/passwd"), testPasswd)
	writeFile(t, filepath.Join(root, "etc/group"), testGroup)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	writeUserFiles(t, root)

	tests := []struct {
		spec    string
		uid     uint32
		gid     uint32
		groups  []uint32
		wantErr string
	}{
		{spec: "", uid: 0, gid: 0, groups: []uint32{0}},
		{spec: "root", uid: 0, gid: 0, groups: []uint32{0}},
		{spec: "0", uid: 0, gid: 0, groups: []uint32{0}},
		{spec: "app", uid: 1000, gid: 1000, groups: []uint32{1000, 2000, 3000}},
		{spec: "1000", uid: 1000, gid: 1000, groups: []uint32{1000, 2000, 3000}},
		{spec: "app:extra", uid: 1000, gid: 2000, groups: []uint32{2000}},
		{spec: "app:4000", uid: 1000, gid: 4000, groups: []uint32{4000}},
		{spec: "app:5555", uid: 1000, gid: 5555, groups: []uint32{5555}},
		{spec: "1000:2000", uid: 1000, gid: 2000, groups: []uint32{2000}},
		{spec: "root:root", uid: 0, gid: 0, groups: []uint32{0}},
		{spec: "4242", uid: 4242, gid: 0, groups: []uint32{0}},
		{spec: "4242:other", uid: 4242, gid: 4000, groups: []uint32{4000}},
		{spec: "app:", uid: 1000, gid: 1000, groups: []uint32{1000, 2000, 3000}},
		{spec: "nobody", wantErr: "unable to find user nobody: no matching entries in passwd file"},
		{spec: "broken", wantErr: "unable to find user broken: no matching entries in passwd file"},
		{spec: "app:nogroup", wantErr: "unable to find group nogroup: no matching entries in group file"},
		{spec: "99999999999", wantErr: "unable to find user 99999999999: no matching entries in passwd file"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			u, err := resolveUser(root, tt.spec)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("resolveUser(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveUser(%q) error = %v", tt.spec, err)
			}
			if u.UID != tt.uid || u.GID != tt.gid || !slices.Equal(u.AdditionalGids, tt.groups) {
				t.Errorf("resolveUser(%q) = %d:%d %v, want %d:%d %v", tt.spec, u.UID, u.GID, u.AdditionalGids, tt.uid, tt.gid, tt.groups)
			}
		})
	}
}

func TestResolveUserErrorsAreSentinels(t *testing.T) {
	root := t.TempDir()
	writeUserFiles(t, root)
	if _, err := resolveUser(root, "nobody"); !errors.Is(err, ErrNoPasswdEntries) {
		t.Errorf("resolveUser(nobody) = %v, want ErrNoPasswdEntries", err)
	}
	if _, err := resolveUser(root, "app:nogroup"); !errors.Is(err, ErrNoGroupEntries) {
		t.Errorf("resolveUser(app:nogroup) = %v, want ErrNoGroupEntries", err)
	}
}

func TestResolveUserWithoutFiles(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		spec    string
		uid     uint32
		gid     uint32
		wantErr bool
	}{
		{spec: "", uid: 0, gid: 0},
		{spec: "1000", uid: 1000, gid: 0},
		{spec: "1000:7", uid: 1000, gid: 7},
		{spec: "app", wantErr: true},
		{spec: "1000:staff", wantErr: true},
	}
	for _, tt := range tests {
		u, err := resolveUser(root, tt.spec)
		if tt.wantErr {
			if err == nil {
				t.Errorf("resolveUser(%q) = %+v, want an error", tt.spec, u)
			}
			continue
		}
		if err != nil || u.UID != tt.uid || u.GID != tt.gid {
			t.Errorf("resolveUser(%q) = %d:%d, %v, want %d:%d", tt.spec, u.UID, u.GID, err, tt.uid, tt.gid)
		}
	}
}

// TestResolveUserSymlinkStaysInRoot checks that a symlinked /etc/passwd is
// resolved inside the rootfs, never on the host.
func TestResolveUserSymlinkStaysInRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	// A passwd file outside the rootfs that the symlinks would reach if
	// they were followed on the host.
	writeFile(t, filepath.Join(dir, "outside", "passwd"), "evil:x:666:666::/:/bin/sh\n")
	writeFile(t, filepath.Join(root, "outside", "passwd"), "good:x:777:777::/:/bin/sh\n")
	for _, target := range []string{
		"../../outside/passwd",                          // relative, climbing out
		filepath.Join(dir, "outside", "passwd"),         // absolute host path
		"/../../../../../../" + dir + "/outside/passwd", // absolute, climbing
	} {
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(root, "etc", "passwd")
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if u, err := resolveUser(root, "evil"); err == nil {
			t.Errorf("with /etc/passwd -> %s, resolveUser(evil) = %+v, want an error", target, u)
		}
	}
	// An absolute symlink inside the image means a path inside the rootfs.
	os.Remove(filepath.Join(root, "etc", "passwd"))
	if err := os.Symlink("/outside/passwd", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	u, err := resolveUser(root, "good")
	if err != nil || u.UID != 777 {
		t.Errorf("with /etc/passwd -> /outside/passwd, resolveUser(good) = %+v, %v, want uid 777", u, err)
	}
}

func TestResolveUserBadFiles(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "passwd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveUser(root, "app"); err == nil || errors.Is(err, ErrNoPasswdEntries) {
		t.Errorf("resolveUser with a directory at /etc/passwd = %v, want a read error", err)
	}

	big := t.TempDir()
	f, err := os.Create(filepath.Join(big, "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxUserFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.MkdirAll(filepath.Join(big, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(big, "passwd"), filepath.Join(big, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveUser(big, "app"); err == nil || errors.Is(err, ErrNoPasswdEntries) {
		t.Errorf("resolveUser with a huge /etc/passwd = %v, want a size error", err)
	}
}
