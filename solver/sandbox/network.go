package sandbox

import "fmt"

// Network is the network mode of a RUN step, as set by `RUN --network`.
type Network int

const (
	// NetworkDefault is the mode of a RUN without --network. BuildKit gives
	// such a step its own network namespace behind a bridge; strata has no
	// bridge or CNI set-up yet, so for now NetworkDefault shares the host's
	// network namespace, exactly like NetworkHost. Steps that download
	// packages therefore work wherever the host has a network.
	NetworkDefault Network = iota
	// NetworkNone gives the step a new, empty network namespace: only the
	// loopback interface exists (and is up), nothing outside is reachable.
	NetworkNone
	// NetworkHost shares the host's network namespace.
	NetworkHost
)

// ParseNetwork parses the value of `RUN --network`: "default" (or ""),
// "none" or "host".
func ParseNetwork(s string) (Network, error) {
	switch s {
	case "", "default":
		return NetworkDefault, nil
	case "none":
		return NetworkNone, nil
	case "host":
		return NetworkHost, nil
	}
	return NetworkDefault, fmt.Errorf("unknown network mode %q (want default, none or host)", s)
}

// String returns the name ParseNetwork accepts for n.
func (n Network) String() string {
	switch n {
	case NetworkDefault:
		return "default"
	case NetworkNone:
		return "none"
	case NetworkHost:
		return "host"
	}
	return fmt.Sprintf("Network(%d)", int(n))
}

// sharesHost reports whether a step in mode n runs in the host's network
// namespace, where the host's loopback resolvers are reachable.
func (n Network) sharesHost() bool {
	return n == NetworkDefault || n == NetworkHost
}
