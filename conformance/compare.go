package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Difference is one way strata's image differs from BuildKit's. Its Key ("file /app/x mode",
// "config Env", "history", "build strata") is what expected-differences.md patterns match.
type Difference struct {
	Key              string
	Strata, BuildKit string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: strata %s, buildkit %s", d.Key, d.Strata, d.BuildKit)
}

// configFields are the image config fields compared, in report order.
var configFields = []string{
	"Env", "Entrypoint", "Cmd", "User", "WorkingDir", "Labels", "ExposedPorts", "Volumes",
	"StopSignal", "Healthcheck", "Shell", "OnBuild",
}

// compareImages compares the images of one platform. since is when the run began: an mtime
// before it was kept from the context, a tar or the base image; one after it is a build time.
func compareImages(s, b *Image, since time.Time) []Difference {
	var diffs []Difference
	prefix := ""
	if s.Platform != "" && b.Platform != "" {
		prefix = "[" + s.Platform + "] "
	}
	for _, f := range configFields {
		sv, bv := canonicalJSON(s.Config[f]), canonicalJSON(b.Config[f])
		if sv != bv {
			diffs = append(diffs, Difference{prefix + "config " + f, sv, bv})
		}
	}
	if sp, bp := historyPattern(s), historyPattern(b); sp != bp {
		diffs = append(diffs, Difference{prefix + "history", sp, bp})
	}
	for _, d := range compareTrees(s.Tree, b.Tree, since) {
		d.Key = prefix + d.Key
		diffs = append(diffs, d)
	}
	return diffs
}

// historyPattern writes the history as one letter per entry, L for a layer and E for an
// empty layer, followed by the number of layers: "LELL (3 layers)".
func historyPattern(im *Image) string {
	var sb strings.Builder
	for _, h := range im.History {
		if h.EmptyLayer {
			sb.WriteByte('E')
		} else {
			sb.WriteByte('L')
		}
	}
	return fmt.Sprintf("%s (%d layers)", sb.String(), im.Layers)
}

// canonicalJSON re-encodes a config value with sorted keys; absent, null, {} and [] are all
// "none", since builders differ in which of them they write for "not set".
func canonicalJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "none"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case nil:
		return "none"
	case map[string]any:
		if len(x) == 0 {
			return "none"
		}
	case []any:
		if len(x) == 0 {
			return "none"
		}
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return string(raw)
	}
	return string(out)
}

// compareTrees compares two final trees entry by entry.
//
// The mtime rule: an entry's mtime is compared when at least one builder kept a time from
// before the run (since), that is one the build did not make: a file or directory copied
// from the context (whose times the harness pins), extracted from a tar, set by touch -d in a
// RUN, or left from the base image. Such a time must be the same in both images; a build
// time in one where the other kept the old time is a difference. Two build times (what a RUN
// wrote, what a step created or changed) are never compared: they only say when the step
// ran, and BuildKit cuts them to whole seconds. For a directory, only BuildKit's kept time
// counts (see compareMtime).
func compareTrees(s, b Tree, since time.Time) []Difference {
	paths := slices.Collect(maps.Keys(s))
	for p := range b {
		if _, ok := s[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var diffs []Difference
	for _, p := range paths {
		se, bs := s[p], b[p]
		switch {
		case se == nil:
			diffs = append(diffs, Difference{"file " + p, "missing", "has " + bs.summary()})
			continue
		case bs == nil:
			diffs = append(diffs, Difference{"file " + p, "has " + se.summary(), "missing"})
			continue
		}
		add := func(field, sv, bv string) {
			if sv != bv {
				diffs = append(diffs, Difference{"file " + p + " " + field, sv, bv})
			}
		}
		add("type", se.Type, bs.Type)
		if se.Type != bs.Type {
			continue
		}
		add("mode", fmt.Sprintf("%04o", se.Mode), fmt.Sprintf("%04o", bs.Mode))
		add("uid", fmt.Sprint(se.UID), fmt.Sprint(bs.UID))
		add("gid", fmt.Sprint(se.GID), fmt.Sprint(bs.GID))
		switch se.Type {
		case "file":
			if se.Digest != bs.Digest && se.Text != "" && bs.Text != "" {
				add("content", fmt.Sprintf("%q", se.Text), fmt.Sprintf("%q", bs.Text))
			} else {
				add("size", fmt.Sprint(se.Size), fmt.Sprint(bs.Size))
				if se.Size == bs.Size {
					add("content", se.Digest, bs.Digest)
				}
			}
			add("hardlinks", fmt.Sprint(se.Links), fmt.Sprint(bs.Links))
		case "symlink":
			add("target", fmt.Sprintf("%q", se.Link), fmt.Sprintf("%q", bs.Link))
		case "char", "block":
			add("device", se.Dev, bs.Dev)
		}
		add("xattrs", formatXattrs(se.Xattrs), formatXattrs(bs.Xattrs))
		if compareMtime(se, bs, since) {
			add("mtime", formatTime(se.ModTime), formatTime(bs.ModTime))
		}
	}
	return diffs
}

func compareMtime(s, b *Entry, since time.Time) bool {
	sKept, bKept := s.ModTime.Before(since), b.ModTime.Before(since)
	if s.Type == "dir" {
		// BuildKit's COPY sometimes gives a directory it creates the build's time instead
		// of the source's (a race, seen only under load, several times a run at -j 3), so a
		// directory's build time in BuildKit says nothing. A time BuildKit kept must be kept.
		return bKept
	}
	return sKept || bKept
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

func formatXattrs(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func (e *Entry) summary() string {
	switch e.Type {
	case "file":
		return fmt.Sprintf("file %04o %d:%d %d bytes", e.Mode, e.UID, e.GID, e.Size)
	case "symlink":
		return fmt.Sprintf("symlink -> %q", e.Link)
	default:
		return fmt.Sprintf("%s %04o %d:%d", e.Type, e.Mode, e.UID, e.GID)
	}
}
