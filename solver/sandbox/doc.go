// Package sandbox runs a RUN step's process in an OCI runtime (runc) over a
// prepared root filesystem, with the mounts, namespaces, user, environment and
// network mode of the step, and captures its output and exit status.
//
// sandbox must not import solver, frontend, layers or image.
package sandbox
