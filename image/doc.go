// Package image owns images as data: resolving and pulling base images with
// go-containerregistry, the content-addressed blob store, image configs and
// manifests, and the exporters (registry, OCI layout, docker tar, local
// folder, plain tar).
//
// image must not import solver or frontend.
package image
