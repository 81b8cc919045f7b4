package sandbox

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capabilityNames are the Linux capabilities by number.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// currentCapabilities returns the names of the capabilities this process
// has in its effective set, which is what an insecure step may get, as
// BuildKit grants its own. Without capget it falls back to Docker's
// default set.
func currentCapabilities() []string {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return slices.Clone(defaultCapabilities)
	}
	var caps []string
	for i, name := range capabilityNames {
		if data[i/32].Effective&(1<<(uint(i)%32)) != 0 {
			caps = append(caps, name)
		}
	}
	return caps
}

// insecureDevices are the device nodes BuildKit adds to an insecure step
// (besides loop devices, see withInsecure).
var insecureDevices = []specs.LinuxDevice{
	{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11},
	{Path: "/dev/cuse", Type: "c", Major: 10, Minor: 203},
	{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
	{Path: "/dev/kvm", Type: "c", Major: 10, Minor: 232},
	{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
	{Path: "/dev/loop-control", Type: "c", Major: 10, Minor: 237},
}

// withInsecure turns s into the spec of a `RUN --security=insecure` step,
// as BuildKit's insecure mode does: every capability this process holds, in
// every set; no seccomp filter and no no_new_privs; no masked or read-only
// paths; writable /sys and /sys/fs/cgroup;
// all character and block devices allowed, and the nodes of insecureDevices
// and of the loop devices up to 7 past the first free one created.
func withInsecure(s *specs.Spec, caps []string) {
	c := s.Process.Capabilities
	c.Bounding, c.Effective, c.Permitted = slices.Clone(caps), slices.Clone(caps), slices.Clone(caps)
	c.Inheritable, c.Ambient = slices.Clone(caps), slices.Clone(caps)
	s.Process.NoNewPrivileges = false
	s.Linux.Seccomp = nil
	s.Linux.MaskedPaths = nil
	s.Linux.ReadonlyPaths = nil
	for i, m := range s.Mounts {
		if m.Type == "sysfs" || m.Type == "cgroup" {
			s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			s.Mounts[i].Options = append(s.Mounts[i].Options, "rw")
		}
	}
	s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Access: "rwm"},
		{Allow: true, Type: "b", Access: "rwm"},
	}
	s.Linux.Devices = append(s.Linux.Devices, insecureDevices...)
	for i := 0; i <= freeLoopDevice()+7; i++ {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: fmt.Sprintf("/dev/loop%d", i), Type: "b", Major: 7, Minor: int64(i)})
	}
}

// freeLoopDevice returns the number of the first free loop device, or 0
// when the host cannot tell.
func freeLoopDevice() int {
	f, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	n, err := unix.IoctlRetInt(int(f.Fd()), unix.LOOP_CTL_GET_FREE)
	if err != nil {
		return 0
	}
	return n
}
