// Package sandbox runs a RUN step's process in an OCI runtime (runc) over a
// prepared root filesystem, with the mounts, namespaces, user, environment and
// network mode of the step, and captures its output and exit status.
//
// The caller (the solver) mounts the step's root filesystem, usually an
// overlay whose upper directory becomes the step's layer, and calls Run. Run
// does what BuildKit's runc executor does: it resolves USER against the
// image's /etc/passwd and /etc/group, creates the working directory, writes
// an OCI bundle (config.json, resolv.conf, hosts) in a temporary directory,
// runs `runc run` in the foreground, and afterwards removes the mount points
// runc had to create in the root filesystem, so that the layer holds only
// what the step wrote. CheckRuntime tells whether the runtime is installed.
//
// A step is confined as Docker confines a container by default: its own
// pid, ipc, uts and mount namespaces (and network namespace unless it
// shares the host's; cgroup namespace on a cgroup v2 host), Docker's
// default capabilities and seccomp profile, and /proc and /sys masked and
// read-only where Docker masks them. RUN --security=insecure (Config.Insecure)
// lifts all of that but the namespaces.
//
// Differences from BuildKit: NetworkDefault shares the host's network (there
// is no bridge yet); no AppArmor profile is applied; and no_new_privs is set
// unless Config.NewPrivileges, so setuid programs (sudo) gain nothing.
//
// sandbox must not import solver, frontend, layers or image.
package sandbox
