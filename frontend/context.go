package frontend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Context is a local build context: a directory and the .dockerignore
// patterns that hide parts of it from the build.
type Context struct {
	Dir      string
	Excludes []string
	// IgnoreFile is the file the patterns came from, "" if none.
	IgnoreFile string
	matcher    *patternmatcher.PatternMatcher
}

// OpenContext opens the context directory dir for a build of dockerfile.
// As with docker build, a "<Dockerfile name>.dockerignore" next to the
// Dockerfile takes precedence over the context's .dockerignore.
// dockerfile may be "" (read from stdin).
func OpenContext(dir, dockerfile string) (*Context, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", dir)
	}
	c := &Context{Dir: abs}
	var candidates []string
	if dockerfile != "" {
		candidates = append(candidates, dockerfile+".dockerignore")
	}
	candidates = append(candidates, filepath.Join(abs, ".dockerignore"))
	for _, name := range candidates {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pats, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		c.Excludes, c.IgnoreFile = pats, name
		break
	}
	if len(c.Excludes) > 0 {
		m, err := patternmatcher.New(c.Excludes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.IgnoreFile, err)
		}
		c.matcher = m
	}
	return c, nil
}

// MatchInfo carries a parent directory's match state down a walk.
type MatchInfo = patternmatcher.MatchInfo

// Ignored reports whether rel (slash-separated, relative to the context
// root) is excluded. parent is the result for rel's parent directory, which
// makes a recursive walk linear.
func (c *Context) Ignored(rel string, parent MatchInfo) (bool, MatchInfo, error) {
	if c.matcher == nil {
		return false, MatchInfo{}, nil
	}
	return c.matcher.MatchesUsingParentResults(rel, parent)
}

// HasExceptions reports whether the patterns contain "!" exceptions, in
// which case an ignored directory may still hold included files.
func (c *Context) HasExceptions() bool {
	return c.matcher != nil && c.matcher.Exclusions()
}
