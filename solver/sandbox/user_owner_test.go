package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveOwner(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nstaff:x:50:app\n"), 0o644)
	tests := []struct {
		spec     string
		uid, gid uint32
		err      string
	}{
		{"app", 1000, 1001, ""},
		{"1000", 1000, 1000, ""},
		{"app:staff", 1000, 50, ""},
		{"app:7", 1000, 7, ""},
		{"42:staff", 42, 50, ""},
		{"nobody", 0, 0, "unable to find user nobody: no matching entries in passwd file"},
		{"app:nogroup", 0, 0, "unable to find group nogroup: no matching entries in group file"},
	}
	for _, tt := range tests {
		uid, gid, err := ResolveOwner(root, tt.spec)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ResolveOwner(%q) error = %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || uid != tt.uid || gid != tt.gid {
			t.Errorf("ResolveOwner(%q) = %d, %d, %v, want %d, %d", tt.spec, uid, gid, err, tt.uid, tt.gid)
		}
	}
}
