package main

import (
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/stratabuild/strata/solver"
)

// defaultMountMaxSize caps each exported cache mount unless
// cache-mounts-max-size says otherwise.
const defaultMountMaxSize = 512 << 20

// cacheTo is a parsed --cache-to.
type cacheTo struct {
	solver.CacheExport
	ignoreError bool
}

// parseCacheFrom parses --cache-from as docker buildx does: a CSV of
// type=registry,ref=REF or type=local,src=DIR, or a bare REF.
func parseCacheFrom(s string) (solver.CacheRef, error) {
	attrs, err := cacheAttrs("--cache-from", s)
	if err != nil {
		return solver.CacheRef{}, err
	}
	var ref solver.CacheRef
	for k, v := range attrs {
		switch k {
		case "type":
		case "ref":
			ref.Ref = v
		case "src":
			ref.Dir = v
		case "digest", "tag":
			return ref, usagef("--cache-from %q: %s= is not supported; strata reads the layout's first manifest", s, k)
		default:
			return ref, usagef("--cache-from %q: unknown attribute %q", s, k)
		}
	}
	return ref, checkCacheType("--cache-from", s, attrs["type"], ref, "src")
}

// parseCacheTo parses --cache-to as docker buildx does: type=registry,ref=REF
// or type=local,dest=DIR (or a bare REF), with mode=min|max and ignore-error;
// cache-mounts=true and cache-mounts-max-size=SIZE are strata's own.
func parseCacheTo(s string) (cacheTo, error) {
	attrs, err := cacheAttrs("--cache-to", s)
	if err != nil {
		return cacheTo{}, err
	}
	c := cacheTo{CacheExport: solver.CacheExport{MountMaxSize: defaultMountMaxSize}}
	for k, v := range attrs {
		switch k {
		case "type":
		case "ref":
			c.Ref = v
		case "dest":
			c.Dir = v
		case "mode":
			switch v {
			case "min":
			case "max":
				c.Max = true
			default:
				return c, usagef("--cache-to %q: mode=%q: want min or max", s, v)
			}
		case "cache-mounts", "ignore-error", "image-manifest", "oci-mediatypes":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, usagef("--cache-to %q: %s=%q: want true or false", s, k, v)
			}
			switch k {
			case "cache-mounts":
				c.Mounts = b
			case "ignore-error":
				c.ignoreError = b
			default:
				// strata's cache always is an OCI image manifest
				// with OCI media types.
				if !b {
					return c, usagef("--cache-to %q: %s=false is not supported: strata's cache is always an OCI image manifest", s, k)
				}
			}
		case "cache-mounts-max-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n < 0 {
				return c, usagef("--cache-to %q: cache-mounts-max-size=%q: want a size such as 512MB", s, v)
			}
			c.MountMaxSize = n
		default:
			return c, usagef("--cache-to %q: unknown attribute %q", s, k)
		}
	}
	return c, checkCacheType("--cache-to", s, attrs["type"], c.CacheRef, "dest")
}

// cacheAttrs splits a cache flag's CSV into attributes; a value without
// "=" is a registry reference.
func cacheAttrs(flag, s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("%s: empty value", flag)
	}
	if !strings.Contains(s, "=") {
		return map[string]string{"type": "registry", "ref": s}, nil
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return nil, usagef("%s %q: %v", flag, s, err)
	}
	attrs := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, usagef("%s %q: %q is not key=value", flag, s, f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := attrs[k]; dup {
			return nil, usagef("%s %q: %s= is given twice", flag, s, k)
		}
		attrs[k] = v
	}
	return attrs, nil
}

// checkCacheType checks that the attributes given fit the cache's type.
func checkCacheType(flag, s, typ string, ref solver.CacheRef, dirKey string) error {
	switch typ {
	case "registry":
		if ref.Ref == "" {
			return usagef("%s %q: type=registry needs ref=REPOSITORY:TAG", flag, s)
		}
		if ref.Dir != "" {
			return usagef("%s %q: %s= is for type=local", flag, s, dirKey)
		}
	case "local":
		if ref.Dir == "" {
			return usagef("%s %q: type=local needs %s=DIR", flag, s, dirKey)
		}
		if ref.Ref != "" {
			return usagef("%s %q: ref= is for type=registry", flag, s)
		}
	case "":
		return usagef("%s %q: missing type= (registry or local)", flag, s)
	case "inline", "gha", "s3", "azblob":
		return usagef("%s %q: type=%s is not supported by strata (use registry or local)", flag, s, typ)
	default:
		return usagef("%s %q: unknown type %q (want registry or local)", flag, s, typ)
	}
	return nil
}

// checkCacheTo refuses a --cache-to that would replace an output of the
// build: a registry cache under a tag the image is pushed to, or a local
// cache in the folder an OCI layout goes to. (docker buildx lets the cache
// overwrite the image.)
func checkCacheTo(caches []cacheTo, outs []output, tags []string) error {
	for _, c := range caches {
		var cref name.Tag
		if c.Ref != "" {
			var err error
			if cref, err = name.NewTag(c.Ref); err != nil {
				return usagef("--cache-to %s: %v", c.Ref, err)
			}
		}
		for _, o := range outs {
			switch {
			case c.Ref != "" && o.Type == "registry":
				for _, t := range tags {
					if tag, err := name.NewTag(t); err == nil && tag.Name() == cref.Name() {
						return usagef("--cache-to %s: the cache would replace the image pushed to %s; give the cache a tag of its own", c.Ref, t)
					}
				}
			case c.Dir != "" && o.Dest != "" && o.Dest != "-":
				a, errA := filepath.Abs(c.Dir)
				b, errB := filepath.Abs(o.Dest)
				if errA == nil && errB == nil && a == b {
					return usagef("--cache-to type=local,dest=%s: the cache would replace the image written there by --output %s", c.Dir, o)
				}
			}
		}
	}
	return nil
}
