package sandbox

import (
	"errors"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseNetwork(t *testing.T) {
	tests := []struct {
		in      string
		want    Network
		wantErr bool
	}{
		{in: "", want: NetworkDefault},
		{in: "default", want: NetworkDefault},
		{in: "none", want: NetworkNone},
		{in: "host", want: NetworkHost},
		{in: "bridge", wantErr: true},
		{in: "HOST", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseNetwork(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseNetwork(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && tt.in != "" && got.String() != tt.in {
			t.Errorf("ParseNetwork(%q).String() = %q", tt.in, got.String())
		}
	}
}

func hasNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	return slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == typ })
}

func TestNewSpecNamespaces(t *testing.T) {
	for _, n := range []Network{NetworkDefault, NetworkNone, NetworkHost} {
		s := mustSpec(t, Process{Args: []string{"true"}}, specInput{network: n})
		for _, typ := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
			if !hasNamespace(s, typ) {
				t.Errorf("network %v: no %s namespace", n, typ)
			}
		}
		if hasNamespace(s, specs.UserNamespace) {
			t.Errorf("network %v: has a user namespace", n)
		}
		if got, want := hasNamespace(s, specs.NetworkNamespace), n == NetworkNone; got != want {
			t.Errorf("network %v: new network namespace = %v, want %v", n, got, want)
		}
		if hasNamespace(s, specs.CgroupNamespace) {
			t.Errorf("network %v: has a cgroup namespace without cgroupNS", n)
		}
	}
	if s := mustSpec(t, Process{Args: []string{"true"}}, specInput{cgroupNS: true}); !hasNamespace(s, specs.CgroupNamespace) {
		t.Errorf("with cgroupNS: no cgroup namespace")
	}
}

func TestNewSpecProcess(t *testing.T) {
	s := mustSpec(t, Process{Args: []string{"sh"}, Env: []string{"A=1"}, Cwd: "/w"}, specInput{rootfs: "/r"})
	if !slices.Equal(s.Process.Env, []string{"A=1", defaultPath}) {
		t.Errorf("Env = %q, want A=1 and the default PATH", s.Process.Env)
	}
	if s.Hostname != "buildkitsandbox" || s.Root.Path != "/r" || s.Root.Readonly || s.Process.Cwd != "/w" {
		t.Errorf("Hostname, Root, Cwd = %q, %+v, %q", s.Hostname, *s.Root, s.Process.Cwd)
	}
	if s.Process.Terminal || !s.Process.NoNewPrivileges {
		t.Errorf("Terminal, NoNewPrivileges = %v, %v, want false, true", s.Process.Terminal, s.Process.NoNewPrivileges)
	}
	c := s.Process.Capabilities
	for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
		if len(set) != 14 || !slices.Contains(set, "CAP_CHOWN") || slices.Contains(set, "CAP_SYS_ADMIN") {
			t.Errorf("%s capabilities = %v, want Docker's 14", name, set)
		}
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable, ambient = %v, %v, want none", c.Inheritable, c.Ambient)
	}
	if len(s.Process.Rlimits) != 1 || s.Process.Rlimits[0] != (specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 1048576, Soft: 1048576}) {
		t.Errorf("Rlimits = %+v", s.Process.Rlimits)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("MaskedPaths, ReadonlyPaths = %v, %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if s.Linux.CgroupsPath != "" {
		t.Errorf("CgroupsPath = %q, want empty", s.Linux.CgroupsPath)
	}

	s = mustSpec(t, Process{Args: []string{"sh"}, Env: []string{"PATH=/x"}, Hostname: "h"}, specInput{newPrivileges: true})
	if !slices.Equal(s.Process.Env, []string{"PATH=/x"}) || s.Hostname != "h" || s.Process.NoNewPrivileges {
		t.Errorf("Env, Hostname, NoNewPrivileges = %q, %q, %v", s.Process.Env, s.Hostname, s.Process.NoNewPrivileges)
	}
}

func TestNewSpecMounts(t *testing.T) {
	in := specInput{
		resolvConf: "/b/resolv.conf",
		hosts:      "/b/hosts",
		mounts: []Mount{
			{Destination: "/dev/shm", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
			{Destination: "/cache", Type: "bind", Source: "/host/cache", Options: []string{"rbind", "rw"}},
		},
	}
	s := mustSpec(t, Process{Args: []string{"sh"}}, in)
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	want := []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/resolv.conf", "/etc/hosts", "/cache"}
	if !slices.Equal(dests, want) {
		t.Fatalf("mount destinations = %v, want %v", dests, want)
	}
	if m := s.Mounts[3]; m.Type != "tmpfs" || !slices.Equal(m.Options, []string{"size=1m"}) {
		t.Errorf("/dev/shm = %+v, want the extra mount", m)
	}
	for _, m := range s.Mounts[7:9] {
		if m.Type != "bind" || !slices.Contains(m.Options, "ro") || !strings.HasPrefix(m.Source, "/b/") {
			t.Errorf("%s = %+v, want a read-only bind of the bundle's file", m.Destination, m)
		}
	}
	if m := s.Mounts[5]; !slices.Contains(m.Options, "ro") {
		t.Errorf("/sys = %+v, want read-only", m)
	}
}

func TestStepResolvConf(t *testing.T) {
	tests := []struct {
		name, host string
		network    Network
		want       string
	}{
		{
			name:    "host keeps loopback",
			host:    "nameserver 127.0.0.53\noptions edns0\n",
			network: NetworkHost,
			want:    "nameserver 127.0.0.53\noptions edns0\n",
		},
		{
			name:    "default is host for now",
			host:    "nameserver 127.0.0.1\n",
			network: NetworkDefault,
			want:    "nameserver 127.0.0.1\n",
		},
		{
			name:    "none drops loopback and falls back",
			host:    "search example.org\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0",
			network: NetworkNone,
			want:    "search example.org\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name:    "none keeps reachable servers",
			host:    "nameserver 127.0.0.11\nnameserver 10.0.0.2\n",
			network: NetworkNone,
			want:    "nameserver 10.0.0.2\n",
		},
		{
			name:    "none with empty host file",
			host:    "",
			network: NetworkNone,
			want:    "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(stepResolvConf([]byte(tt.host), tt.network)); got != tt.want {
				t.Errorf("stepResolvConf(%q, %v) = %q, want %q", tt.host, tt.network, got, tt.want)
			}
		})
	}
}

func TestHostsFile(t *testing.T) {
	want := "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	if got := string(hostsFile("buildkitsandbox")); got != want {
		t.Errorf("hostsFile() = %q, want %q", got, want)
	}
}

func TestCheckRuntime(t *testing.T) {
	tests := []struct{ runtime, want string }{
		{"runc-does-not-exist", "runc-does-not-exist not found in PATH: RUN steps need an OCI runtime; install it with `apt-get install runc`"},
		{"/nonexistent/runc", "/nonexistent/runc not found: RUN steps need an OCI runtime; install it with `apt-get install runc`"},
	}
	for _, tt := range tests {
		err := CheckRuntime(tt.runtime)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckRuntime(%q) = %v, want %q", tt.runtime, err, tt.want)
		}
		if !errors.Is(err, ErrNoRuntime) {
			t.Errorf("CheckRuntime(%q) = %v, want ErrNoRuntime", tt.runtime, err)
		}
	}
}
