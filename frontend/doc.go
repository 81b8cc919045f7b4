// Package frontend turns a Dockerfile and its build options into a build
// plan: it parses with BuildKit's own parser and instruction packages, resolves
// global ARGs, expands FROM, selects the target and the stages it needs,
// loads the build context's .dockerignore and resolves names to named build
// contexts (--build-context). It also offers the variable scope
// (ARG and ENV) that the solver uses to expand each instruction.
//
// frontend must not import solver, layers or image.
package frontend
