package sandbox

import (
	"os"
	"slices"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultPath is the PATH of a step whose environment has none: Docker's.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCapabilities is Docker's default capability set, which BuildKit
// gives RUN steps too.
var defaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// maskedPaths are hidden from the step (Docker's and containerd's list): a
// file is covered by /dev/null, a directory by an empty read-only tmpfs.
var maskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// readonlyPaths are visible but read-only in the step (Docker's list).
var readonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// maxOpenFiles is the step's RLIMIT_NOFILE, soft and hard, where the
// runtime may set it (see openFilesLimit).
const maxOpenFiles = 1048576

// openFilesLimit returns the RLIMIT_NOFILE a step can get: maxOpenFiles,
// unless this process's hard limit is lower and it lacks CAP_SYS_RESOURCE
// to raise it (as in some containers), in which case the runtime would fail
// to set maxOpenFiles and the step gets this process's hard limit instead.
func openFilesLimit() uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Max >= maxOpenFiles {
		return maxOpenFiles
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err == nil && data[0].Effective&(1<<unix.CAP_SYS_RESOURCE) != 0 {
		return maxOpenFiles
	}
	return lim.Max
}

// specInput is what newSpec needs besides the process.
type specInput struct {
	rootfs        string
	user          specs.User
	network       Network
	resolvConf    string // host path bind-mounted read-only at /etc/resolv.conf
	hosts         string // host path bind-mounted read-only at /etc/hosts
	mounts        []Mount
	newPrivileges bool   // leave no_new_privs unset (Config.NewPrivileges)
	insecure      bool   // RUN --security=insecure (see withInsecure)
	openFiles     uint64 // RLIMIT_NOFILE; 0 is maxOpenFiles
	cgroupNS      bool   // give the step its own cgroup namespace
}

// cgroupNamespaceSupported reports whether steps get their own cgroup
// namespace: only on a host whose /sys/fs/cgroup is cgroup v2, as BuildKit
// decides. With cgroup v1 (including the "hybrid" layout) BuildKit does
// without one, because a cgroup namespace can fail with EINVAL on some v1
// hierarchies.
var cgroupNamespaceSupported = sync.OnceValue(func() bool {
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		return false
	}
	_, err := os.Stat("/sys/fs/cgroup/cgroup.subtree_control")
	return err == nil
})

// newSpec returns the OCI runtime spec of a step, modelled on the spec that
// BuildKit's runc executor generates (containerd's default Unix spec, without
// /run, with /sys/fs/cgroup, resolv.conf and hosts):
//
//   - new pid, ipc, uts and mount namespaces, a new network namespace
//     unless the step shares the host's (see Network), and a new cgroup
//     namespace on a cgroup v2 host; no user namespace;
//   - Docker's default capabilities, seccomp profile (see seccompProfile),
//     masked and read-only paths, and device cgroup rules (deny all; runc
//     adds the standard devices);
//   - no_new_privs set, unless in.newPrivileges;
//   - RLIMIT_NOFILE 1048576 (see openFilesLimit);
//   - cgroupsPath left empty: runc then creates a cgroup named after the
//     container below its own cgroup in each hierarchy (v1 and v2 alike) and
//     removes it with the container.
//
// An insecure step gets withInsecure's spec instead: no seccomp filter, no
// no_new_privs, every capability, nothing masked.
func newSpec(p Process, in specInput) (*specs.Spec, error) {
	env := slices.Clone(p.Env)
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		env = append(env, defaultPath)
	}
	hostname := p.Hostname
	if hostname == "" {
		hostname = defaultHostname
	}
	caps := slices.Clone(defaultCapabilities)
	nofile := in.openFiles
	if nofile == 0 {
		nofile = maxOpenFiles
	}

	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: in.user,
			Args: slices.Clone(p.Args),
			Env:  env,
			Cwd:  p.Cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
			Rlimits: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Hard: nofile, Soft: nofile},
			},
			NoNewPrivileges: !in.newPrivileges,
		},
		Root:     &specs.Root{Path: in.rootfs},
		Hostname: hostname,
		Mounts:   mounts(in),
		Linux: &specs.Linux{
			Namespaces: namespaces(in.network, in.cgroupNS),
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths:   slices.Clone(maskedPaths),
			ReadonlyPaths: slices.Clone(readonlyPaths),
		},
	}
	if in.insecure {
		withInsecure(s, currentCapabilities())
		return s, nil
	}
	var err error
	if s.Linux.Seccomp, err = seccompProfile(s); err != nil {
		return nil, err
	}
	return s, nil
}

// namespaces returns the namespaces a step runs in for network mode n.
func namespaces(n Network, cgroupNS bool) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
	}
	if !n.sharesHost() {
		// runc brings the loopback interface of a new namespace up.
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	if cgroupNS {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return ns
}

// mounts returns the step's mounts: the default ones, then resolv.conf and
// hosts, then the extra mounts; an extra mount at the destination of an
// earlier one takes its place.
func mounts(in specInput) []specs.Mount {
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		roBind(in.resolvConf, "/etc/resolv.conf"),
		roBind(in.hosts, "/etc/hosts"),
	}
	for _, m := range in.mounts {
		sm := specs.Mount{
			Destination: m.Destination,
			Type:        m.Type,
			Source:      m.Source,
			Options:     slices.Clone(m.Options),
		}
		if i := slices.IndexFunc(ms, func(o specs.Mount) bool { return o.Destination == sm.Destination }); i >= 0 {
			ms[i] = sm
			continue
		}
		ms = append(ms, sm)
	}
	return ms
}

// roBind returns a read-only bind mount of the host path src at dst.
func roBind(src, dst string) specs.Mount {
	return specs.Mount{
		Destination: dst,
		Type:        "bind",
		Source:      src,
		Options:     []string{"nosuid", "noexec", "nodev", "rbind", "ro"},
	}
}
