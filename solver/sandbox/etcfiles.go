package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
)

// hostResolvConf is the host's resolver configuration, copied into steps.
const hostResolvConf = "/etc/resolv.conf"

// defaultHostname is the hostname of a RUN step, as in BuildKit.
const defaultHostname = "buildkitsandbox"

// fallbackNameservers replace the host's nameservers when none of them is
// reachable from the step, as Docker and BuildKit do.
var fallbackNameservers = []string{"8.8.8.8", "8.8.4.4"}

// resolvConf returns the /etc/resolv.conf for a step in network mode n,
// made from the host's file at hostPath (see stepResolvConf). A missing host
// file counts as empty.
func resolvConf(hostPath string, n Network) ([]byte, error) {
	b, err := os.ReadFile(hostPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading host resolv.conf: %w", err)
	}
	return stepResolvConf(b, n), nil
}

// stepResolvConf turns the host's resolv.conf into a step's: unchanged for a
// step in the host's network namespace; otherwise without the loopback
// nameservers (such as systemd-resolved's 127.0.0.53), which the step cannot
// reach, and if that leaves no nameserver, with Google's public ones added,
// as Docker and BuildKit do.
func stepResolvConf(host []byte, n Network) []byte {
	if n.sharesHost() {
		return host
	}
	var out strings.Builder
	servers := 0
	for line := range strings.Lines(string(host)) {
		if addr, ok := nameserver(line); ok {
			if addr.IsLoopback() {
				continue
			}
			servers++
		}
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteByte('\n')
		}
	}
	if servers == 0 {
		for _, s := range fallbackNameservers {
			fmt.Fprintf(&out, "nameserver %s\n", s)
		}
	}
	return []byte(out.String())
}

// nameserver returns the address of a resolv.conf "nameserver" line.
func nameserver(line string) (netip.Addr, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "nameserver" {
		return netip.Addr{}, false
	}
	// A link-local IPv6 address may carry a zone: fe80::1%eth0.
	addr, err := netip.ParseAddr(f[1])
	if err != nil {
		return netip.Addr{}, false
	}
	return addr, true
}

// hostsFile returns the /etc/hosts of a step with the given hostname, the
// same as BuildKit's.
func hostsFile(hostname string) []byte {
	return fmt.Appendf(nil, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", hostname)
}
