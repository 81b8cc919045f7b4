// Package lint checks Dockerfiles: hadolint's rules, BuildKit's build
// checks and more, on BuildKit's own parser, with hadolint's configuration
// files, inline pragmas and output formats.
//
// A Document is a parsed Dockerfile with its stages and instructions; a
// Rule looks at a Document and reports Findings through a Reporter. Lint
// runs the rules, applies configuration and pragmas, and returns the
// findings in file order.
//
// lint uses frontend for parsing only; it must not import solver, layers or
// image.
package lint
