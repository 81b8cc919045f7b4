package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mustSpec is newSpec for input that must give a spec.
func mustSpec(t testing.TB, p Process, in specInput) *specs.Spec {
	t.Helper()
	s, err := newSpec(p, in)
	if err != nil {
		t.Fatalf("newSpec = %v", err)
	}
	return s
}

// dockerCapEff is CapEff in /proc/self/status of a process in a container
// that Docker starts as root with its default capabilities.
const dockerCapEff = 0x00000000a80425fb

// capMask returns the capability bit mask of names.
func capMask(t *testing.T, names []string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		i := slices.Index(capabilityNames, n)
		if i < 0 {
			t.Fatalf("unknown capability %q", n)
		}
		m |= 1 << i
	}
	return m
}

// allowed returns the rules of p that allow the syscall name.
func allowed(p *specs.LinuxSeccomp, name string) []specs.LinuxSyscall {
	var rules []specs.LinuxSyscall
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && slices.Contains(r.Names, name) {
			rules = append(rules, r)
		}
	}
	return rules
}

// TestNewSpecConfinement checks what a default step gets: Docker's
// capabilities, no_new_privs, Docker's default seccomp profile for this
// architecture, Docker's masked and read-only paths, and its own
// namespaces; and that an insecure step gets none of the first four.
func TestNewSpecConfinement(t *testing.T) {
	s := mustSpec(t, Process{Args: []string{"sh"}}, specInput{network: NetworkNone})
	c := s.Process.Capabilities
	for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
		if got := capMask(t, set); got != dockerCapEff {
			t.Errorf("%s capabilities = %#x, want Docker's %#x", name, got, dockerCapEff)
		}
	}
	if !s.Process.NoNewPrivileges {
		t.Errorf("NoNewPrivileges = false, want true")
	}
	wantMasked := []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	if !slices.Equal(s.Linux.MaskedPaths, wantMasked) {
		t.Errorf("MaskedPaths = %q, want %q", s.Linux.MaskedPaths, wantMasked)
	}
	wantRO := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	if !slices.Equal(s.Linux.ReadonlyPaths, wantRO) {
		t.Errorf("ReadonlyPaths = %q, want %q", s.Linux.ReadonlyPaths, wantRO)
	}
	for _, typ := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace, specs.NetworkNamespace} {
		if !hasNamespace(s, typ) {
			t.Errorf("no %s namespace", typ)
		}
	}

	p := s.Linux.Seccomp
	if p == nil {
		t.Fatal("Seccomp = nil, want Docker's default profile")
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != uint(unix.EPERM) {
		t.Errorf("DefaultAction, DefaultErrnoRet = %s, %v, want SCMP_ACT_ERRNO, EPERM", p.DefaultAction, p.DefaultErrnoRet)
	}
	if want := map[string][]specs.Arch{
		"amd64": {specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		"arm64": {specs.ArchAARCH64, specs.ArchARM},
	}[runtime.GOARCH]; want != nil && !slices.Equal(p.Architectures, want) {
		t.Errorf("Architectures = %v, want %v", p.Architectures, want)
	}
	// Exactly what the library makes for Docker's default capabilities.
	want, err := seccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: defaultCapabilities}}})
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(p)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("seccomp profile differs from seccomp.GetDefaultProfile:\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	// Allowed to all; allowed only with CAP_SYS_ADMIN (mount, unshare,
	// setns) or never (keyctl, add_key); allowed with argument checks.
	for _, name := range []string{"read", "execve", "clone", "socket", "personality", "chown", "mknod", "chroot"} {
		if len(allowed(p, name)) == 0 {
			t.Errorf("%s is not allowed", name)
		}
	}
	for _, name := range []string{"mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "reboot", "kexec_load", "init_module", "bpf", "clock_settime"} {
		if rules := allowed(p, name); len(rules) != 0 {
			t.Errorf("%s is allowed: %+v", name, rules)
		}
	}
	for _, name := range []string{"clone", "socket", "personality"} {
		for _, r := range allowed(p, name) {
			if len(r.Args) == 0 {
				t.Errorf("%s is allowed without argument checks: %+v", name, r)
			}
		}
	}

	// The same profile, shared, for the next step.
	if s2 := mustSpec(t, Process{Args: []string{"sh"}}, specInput{}); s2.Linux.Seccomp != p {
		t.Errorf("second step's profile was made again")
	}

	ins := mustSpec(t, Process{Args: []string{"sh"}}, specInput{insecure: true})
	if ins.Linux.Seccomp != nil || ins.Process.NoNewPrivileges || len(ins.Linux.MaskedPaths) != 0 || len(ins.Linux.ReadonlyPaths) != 0 {
		t.Errorf("insecure: Seccomp %v, NoNewPrivileges %v, masked %v, read-only %v, want none of them",
			ins.Linux.Seccomp != nil, ins.Process.NoNewPrivileges, ins.Linux.MaskedPaths, ins.Linux.ReadonlyPaths)
	}
	if !hasNamespace(ins, specs.PIDNamespace) || !hasNamespace(ins, specs.MountNamespace) {
		t.Errorf("insecure: namespaces %v, want its own pid and mount namespaces still", ins.Linux.Namespaces)
	}
}

// TestWriteBundleSeccomp checks the config.json runc reads: the seccomp
// profile and no_new_privs are there; with NewPrivileges the bit is not.
func TestWriteBundleSeccomp(t *testing.T) {
	for _, c := range []Config{{}, {NewPrivileges: true}, {Insecure: true}} {
		bundle := t.TempDir()
		if _, err := writeBundle(bundle, "/rootfs", specs.User{}, Process{Args: []string{"true"}}, c); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s specs.Spec
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		wantSeccomp, wantNNP := !c.Insecure, !c.Insecure && !c.NewPrivileges
		if got := s.Linux.Seccomp != nil && s.Linux.Seccomp.DefaultAction == specs.ActErrno && len(s.Linux.Seccomp.Syscalls) > 0; got != wantSeccomp {
			t.Errorf("config %+v: seccomp profile in config.json = %v, want %v", c, got, wantSeccomp)
		}
		if s.Process.NoNewPrivileges != wantNNP {
			t.Errorf("config %+v: noNewPrivileges = %v, want %v", c, s.Process.NoNewPrivileges, wantNNP)
		}
	}
}
