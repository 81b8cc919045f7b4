package frontend

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ContextKind says what a named build context holds.
type ContextKind int

const (
	// ContextDir is a local directory, filtered by its own .dockerignore.
	ContextDir ContextKind = iota + 1
	// ContextImage is an image in a registry: docker-image://REF.
	ContextImage
	// ContextOCILayout is an image in an OCI layout on disk:
	// oci-layout://PATH[:TAG|@DIGEST].
	ContextOCILayout
	// ContextGit is a git repository: https://HOST/PATH.git#REF:SUBDIR,
	// git@HOST:PATH, git://... or ssh://....
	ContextGit
)

// NamedContext is a --build-context NAME=VALUE. A FROM, COPY --from or
// RUN --mount from= that names it reads it instead of the image of that
// name, and a stage whose name it is gets replaced by it, as in BuildKit.
type NamedContext struct {
	// Name is the name as BuildKit normalizes it: "alpine" for
	// docker.io/library/alpine:latest, "alpine:3.20", "example.com/app".
	Name string
	Kind ContextKind
	// Dir is the directory of a ContextDir, opened with its own
	// .dockerignore.
	Dir *Context
	// Ref is the image reference (ContextImage), the layout's directory
	// (ContextOCILayout) or the repository URL (ContextGit).
	Ref string
	// Tag and Digest select the image of a ContextOCILayout; with neither,
	// the layout's "latest" tag, or its only image, is used.
	Tag, Digest string
}

// ParseNamedContext parses a --build-context value, NAME=VALUE, where
// VALUE is a directory, docker-image://REF, oci-layout://PATH[:TAG|@DIGEST]
// or a git URL. A directory must exist; it is opened with its own
// .dockerignore.
func ParseNamedContext(spec string) (*NamedContext, error) {
	rawName, value, ok := strings.Cut(spec, "=")
	if !ok || rawName == "" || value == "" {
		return nil, fmt.Errorf("invalid build context %q: want NAME=VALUE", spec)
	}
	name, err := NormalizeContextName(rawName)
	if err != nil {
		return nil, fmt.Errorf("invalid context name %s: %w", rawName, err)
	}
	if name == Scratch || name == "context" {
		return nil, fmt.Errorf("invalid context name %s: %q is reserved", rawName, name)
	}
	nc := &NamedContext{Name: name}
	switch {
	case strings.HasPrefix(value, "docker-image://"):
		nc.Kind, nc.Ref = ContextImage, strings.TrimPrefix(value, "docker-image://")
		if nc.Ref == "" {
			return nil, fmt.Errorf("build context %s: docker-image:// needs an image reference", rawName)
		}
	case strings.HasPrefix(value, "oci-layout://"):
		nc.Kind = ContextOCILayout
		nc.Ref, nc.Tag, nc.Digest = splitLayoutRef(strings.TrimPrefix(value, "oci-layout://"))
		if nc.Ref == "" {
			return nil, fmt.Errorf("build context %s: oci-layout:// needs a path", rawName)
		}
	case IsGitURL(value):
		nc.Kind, nc.Ref = ContextGit, value
	case strings.Contains(value, "://"):
		scheme, _, _ := strings.Cut(value, "://")
		return nil, fmt.Errorf("build context %s: unsupported context source %s (want a directory, docker-image://, oci-layout:// or a git URL)", rawName, scheme)
	default:
		dir, err := filepath.Abs(value)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("build context %s: directory %s not found", rawName, value)
		}
		c, err := OpenContext(dir, "")
		if err != nil {
			return nil, fmt.Errorf("build context %s: %w", rawName, err)
		}
		nc.Kind, nc.Dir, nc.Ref = ContextDir, c, dir
	}
	return nc, nil
}

// splitLayoutRef splits PATH[:TAG|@DIGEST].
func splitLayoutRef(s string) (dir, tag, digest string) {
	if i := strings.LastIndex(s, "@"); i >= 0 && strings.Contains(s[i:], ":") {
		return s[:i], "", s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "/") {
		return s[:i], s[i+1:], ""
	}
	return s, "", ""
}

// IsGitURL reports whether s names a git repository as BuildKit's ADD and
// build contexts understand it: an http(s) URL whose path ends in .git, a
// git:// or ssh:// URL, or an scp-like user@host:path.
func IsGitURL(s string) bool {
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		switch strings.ToLower(scheme) {
		case "git", "ssh":
			return true
		case "http", "https":
			p := rest
			if i := strings.IndexAny(p, "?#"); i >= 0 {
				p = p[:i]
			}
			return strings.HasSuffix(p, ".git")
		}
		return false
	}
	return scpURL.MatchString(s)
}

// scpURL is BuildKit's pattern for scp-like git URLs (user@host:path).
var scpURL = regexp.MustCompile(`^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$`)

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
	domainPattern = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$`)
)

// NormalizeContextName writes an image-like name the way BuildKit keys
// named contexts: the familiar form of the reference (docker.io/library/
// dropped), without a ":latest" tag. "docker.io/library/alpine:latest",
// "library/alpine" and "alpine" are all "alpine".
func NormalizeContextName(s string) (string, error) {
	rest, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest && !digestPattern.MatchString(digest) {
		return "", fmt.Errorf("invalid digest %q", digest)
	}
	tag := ""
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		rest, tag = rest[:i], rest[i+1:]
		if !tagPattern.MatchString(tag) {
			return "", fmt.Errorf("invalid tag %q", tag)
		}
	}
	domain, remainder := "docker.io", rest
	if first, after, ok := strings.Cut(rest, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		domain, remainder = first, after
		if !domainPattern.MatchString(domain) {
			return "", fmt.Errorf("invalid domain %q", domain)
		}
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if remainder == "" {
		return "", fmt.Errorf("empty name")
	}
	for _, c := range strings.Split(remainder, "/") {
		if !pathComponent.MatchString(c) {
			return "", fmt.Errorf("repository name must be lowercase letters, digits and separators, got %q", remainder)
		}
	}
	name := domain + "/" + remainder
	if domain == "docker.io" {
		name = remainder
		if r, ok := strings.CutPrefix(remainder, "library/"); ok && !strings.Contains(r, "/") {
			name = r
		}
	}
	if tag != "" && !(tag == "latest" && !hasDigest) {
		name += ":" + tag
	}
	if hasDigest {
		name += "@" + digest
	}
	return name, nil
}

// NamedContext returns the named context that name (a FROM or --from
// value) refers to, or nil. "scratch" and "context" never name one.
func (p *Plan) NamedContext(name string) *NamedContext {
	if len(p.Contexts) == 0 || strings.EqualFold(name, Scratch) || strings.EqualFold(name, "context") {
		return nil
	}
	n, err := NormalizeContextName(name)
	if err != nil {
		return nil
	}
	return p.Contexts[n]
}
