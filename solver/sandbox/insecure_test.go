package sandbox

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNewSpecInsecure(t *testing.T) {
	s := mustSpec(t, Process{Args: []string{"sh"}}, specInput{insecure: true})
	c := s.Process.Capabilities
	want := currentCapabilities()
	for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted, "inheritable": c.Inheritable, "ambient": c.Ambient} {
		if !slices.Equal(set, want) {
			t.Errorf("%s capabilities = %v, want this process's %v", name, set, want)
		}
	}
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("MaskedPaths, ReadonlyPaths = %v, %v, want none", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	for _, m := range s.Mounts {
		if (m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup") && (slices.Contains(m.Options, "ro") || !slices.Contains(m.Options, "rw")) {
			t.Errorf("%s = %+v, want it writable", m.Destination, m)
		}
	}
	if !slices.Contains(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "rwm"}) {
		t.Errorf("device rules = %+v, want block devices allowed", s.Linux.Resources.Devices)
	}
	if !slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool { return d.Path == "/dev/fuse" }) {
		t.Errorf("devices = %+v, want /dev/fuse", s.Linux.Devices)
	}

	// The default spec is untouched by an insecure one made before it.
	s = mustSpec(t, Process{Args: []string{"sh"}}, specInput{})
	if len(s.Process.Capabilities.Bounding) != len(defaultCapabilities) || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.Devices) != 0 {
		t.Errorf("default spec after an insecure one: caps %v, masked %v, devices %v", s.Process.Capabilities.Bounding, s.Linux.MaskedPaths, s.Linux.Devices)
	}
}

func TestCurrentCapabilities(t *testing.T) {
	caps := currentCapabilities()
	if len(caps) == 0 {
		t.Skip("this process has no capabilities")
	}
	for _, c := range caps {
		if !slices.Contains(capabilityNames, c) {
			t.Errorf("unknown capability %q", c)
		}
	}
}

// TestRunInsecure: an insecure step may mount file systems and read the
// paths a normal step sees masked; a normal one may not.
func TestRunInsecure(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	script := "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted"
	if out, _, err := run(t, root, script, Process{}, Config{}); err == nil || out != "" {
		t.Errorf("a normal step mounted a tmpfs: %q, %v", out, err)
	}
	if out := mustRun(t, root, script, Process{}, Config{Insecure: true}); out != "mounted\n" {
		t.Errorf("insecure step: %q, want mounted", out)
	}
	if out := mustRun(t, root, "grep -c . /proc/timer_list >/dev/null && echo visible || echo masked", Process{}, Config{Insecure: true}); out != "visible\n" {
		t.Errorf("insecure step sees /proc/timer_list %s", out)
	}
	if out := mustRun(t, root, "grep -c . /proc/timer_list >/dev/null && echo visible || echo masked", Process{}, Config{}); out != "masked\n" {
		t.Errorf("normal step sees /proc/timer_list %s", out)
	}
}
