// Package solver executes a build plan: it runs the needed stages (those
// that do not depend on each other in parallel), computes each step's cache
// key, reuses cached layers, and otherwise executes the step — pulling base
// images, reading named build contexts, copying files (from the context,
// stages, URLs and git repositories) into overlay snapshots, running RUN in
// the sandbox — and assembles the resulting image.
//
// solver may import frontend, layers, image and solver/sandbox; none of
// those may import solver.
package solver
