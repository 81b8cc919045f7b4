package solver

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/solver/sandbox"
)

// lockBuild marks a build as running on the cache: every build holds a
// shared lock on build.lock while it runs. A build that can take the lock
// exclusively knows no other build is running and first clears what killed
// builds left behind (mounts, containers, work directories), then shares
// the lock like the rest. Closing the file releases the lock.
func (s *store) lockBuild(runtime string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		s.clearStale(runtime)
	}
	// Converting to shared never fails for lack of the lock we hold; it
	// waits only while another build clears.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// clearStale removes the leftovers of builds that were killed. Only call
// it while holding build.lock exclusively.
func (s *store) clearStale(runtime string) {
	_ = sandbox.Cleanup(runtime, filepath.Join(s.dir, "runc"))
	tmp := filepath.Join(s.dir, "tmp")
	for _, m := range mountsUnder(tmp) {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
	if len(mountsUnder(tmp)) > 0 {
		return // never delete through a mount
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				sb.WriteByte(v)
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
