package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// output is one --output value.
type output struct {
	Type  string // registry, oci, docker, local, tar, image
	Dest  string
	Attrs map[string]string
}

// parseOutput parses buildx's --output syntax: "type=T,dest=PATH,..." or a
// bare path (a local folder; "-" is a tar on stdout).
func parseOutput(s string) (output, error) {
	if !strings.Contains(s, "=") {
		if s == "-" {
			return output{Type: "tar", Dest: "-"}, nil
		}
		return output{Type: "local", Dest: s}, nil
	}
	o := output{Attrs: map[string]string{}}
	for _, field := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return o, usagef("--output %q: %q is not key=value", s, field)
		}
		switch strings.TrimSpace(k) {
		case "type":
			o.Type = v
		case "dest":
			o.Dest = v
		default:
			o.Attrs[k] = v
		}
	}
	switch o.Type {
	case "registry", "image":
		if o.Type == "image" && o.Attrs["push"] != "true" {
			return o, usagef("--output %q: type=image without a daemon needs push=true (or use type=registry)", s)
		}
		o.Type = "registry"
	case "oci", "docker", "tar":
		if o.Dest == "" {
			return o, usagef("--output %q: type=%s needs dest=PATH (\"-\" for stdout)", s, o.Type)
		}
	case "local":
		if o.Dest == "" || o.Dest == "-" {
			return o, usagef("--output %q: type=local needs dest=DIR", s)
		}
	case "":
		return o, usagef("--output %q: missing type=", s)
	default:
		return o, usagef("--output %q: unknown type %q (want registry, oci, docker, local or tar)", s, o.Type)
	}
	return o, nil
}

func (o output) String() string {
	if o.Dest != "" {
		return fmt.Sprintf("type=%s,dest=%s", o.Type, o.Dest)
	}
	return "type=" + o.Type
}

// checkOutputs finds, before anything is built, what would make the
// outputs fail: a push without a valid tag, two outputs on stdout, a local
// folder that is not empty.
func checkOutputs(outs []output, tags []string) error {
	for _, t := range tags {
		if _, err := name.NewTag(t); err != nil {
			return usagef("--tag %q: %v", t, err)
		}
	}
	stdout := 0
	for _, o := range outs {
		if o.Type == "registry" && len(tags) == 0 {
			return usagef("pushing needs at least one --tag NAME:TAG")
		}
		if o.Dest == "-" {
			if stdout++; stdout > 1 {
				return usagef("only one --output can write to stdout (dest=-)")
			}
		}
		if o.Type == "local" {
			if entries, err := os.ReadDir(o.Dest); err == nil && len(entries) > 0 {
				return usagef("--output %s: %s exists and is not empty; strata does not write into a folder that has files", o, o.Dest)
			}
		}
	}
	return nil
}
