package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompProfile returns the seccomp filter of a step whose spec is s:
// Docker's default profile (github.com/moby/profiles/seccomp), which
// answers every syscall it does not list with EPERM, allows some only to a
// process holding a capability in s's bounding set (mount and unshare
// need CAP_SYS_ADMIN), and is made for the host's architecture and its
// compatibility modes (x86_64 with x86 and x32; aarch64 with arm; on a
// host the profile has no entry for, runc filters the native architecture). A foreign-platform step runs under a QEMU user
// emulator of the host's architecture, so the same filter applies to the
// emulator's syscalls, as with `docker run --platform`.
//
// The profile is made once per capability set and shared: callers must not
// change it.
func seccompProfile(s *specs.Spec) (*specs.LinuxSeccomp, error) {
	var caps []string
	if s.Process != nil && s.Process.Capabilities != nil {
		caps = s.Process.Capabilities.Bounding
	}
	key := strings.Join(caps, ",")
	if p, ok := seccompProfiles.Load(key); ok {
		return p.(*specs.LinuxSeccomp), nil
	}
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(caps)}}}
	p, err := seccomp.GetDefaultProfile(rs)
	if err != nil {
		return nil, fmt.Errorf("making the default seccomp profile: %w", err)
	}
	if p == nil {
		return nil, errors.New("making the default seccomp profile: the library returned none")
	}
	p2, _ := seccompProfiles.LoadOrStore(key, p)
	return p2.(*specs.LinuxSeccomp), nil
}

// seccompProfiles caches seccompProfile's results by capability set.
var seccompProfiles sync.Map
