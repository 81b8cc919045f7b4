// Package image owns images as data: resolving and pulling base images with
// go-containerregistry, the content-addressed blob store, image configs and
// manifests, and the exporters (registry, OCI layout, docker tar, local
// folder, plain tar).
//
// The pieces:
//
//   - Store keeps blobs by digest in a directory (blobs/sha256/<hex>),
//     writing through a temporary file and a rename and verifying on read.
//   - Pull resolves a reference against its registry and fills the Store
//     with the manifest, config and any missing layers; the Base it
//     returns lists the layers as Layer values backed by the Store.
//   - New assembles an OCI image from a config and layers.
//   - Push, WriteOCI, WriteOCIArchive, WriteDocker, WriteLocal and
//     WriteTar export an image.
//   - NewIndex assembles an OCI image index of one image per platform;
//     PushIndex, WriteOCIIndex, WriteOCIIndexArchive, WriteLocalIndex and
//     WriteTarIndex export it (a docker tar holds one platform only).
//
// Registry access follows the rules strata's users rely on: credentials
// from ~/.docker/config.json and credential helpers, plain HTTP only for
// loopback registries and those named with WithInsecure. The package never
// prints; progress goes to the sink given with WithProgress.
//
// image must not import solver or frontend.
package image
