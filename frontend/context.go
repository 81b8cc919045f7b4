package frontend

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.readIgnore(name, data); err != nil {
			return nil, err
		}
		break
	}
	return c, nil
}

// readIgnore sets the context's patterns from the ignore file name, which
// holds data. A pattern that can never be matched (a lone "!", a bad [ ]
// class, a trailing \\) is an *Error at its line, found here rather than
// when a walk of the context first tries it.
func (c *Context) readIgnore(name string, data []byte) error {
	pats, err := ignorefile.ReadAll(bytes.NewReader(data))
	if errors.Is(err, bufio.ErrTooLong) {
		return &Error{File: name, Line: longLine(data), Err: fmt.Errorf("line longer than %d KiB: split or remove it", bufio.MaxScanTokenSize>>10)}
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	c.Excludes, c.IgnoreFile, c.matcher = pats, name, nil
	if len(pats) == 0 {
		return nil
	}
	for i, p := range pats {
		if err := checkPattern(p); err != nil {
			return &Error{File: name, Line: patternLine(data, i), Err: err}
		}
	}
	m, err := patternmatcher.New(pats)
	if err != nil {
		return &Error{File: name, Err: err}
	}
	c.matcher = m
	return nil
}

// checkPattern compiles one pattern as ignorefile.ReadAll returns it.
// patternmatcher.New only checks patterns with filepath.Match, which takes
// some (a range like [z-a]) that then fail on every path.
func checkPattern(p string) error {
	m, err := patternmatcher.New([]string{p})
	if err != nil && strings.HasPrefix(p, "!") {
		// "!" alone, or with only a "/" after it, which cleaning drops.
		return fmt.Errorf("bad pattern %q: a ! must be followed by the pattern it re-includes", p)
	}
	if err == nil {
		m, err = patternmatcher.New([]string{strings.TrimPrefix(p, "!")})
	}
	if err == nil {
		_, err = m.MatchesOrParentMatches("a")
	}
	if err != nil {
		return fmt.Errorf("bad pattern %q: %v; fix it, or escape [, ], *, ? and \\ with \\ to match them literally", p, err)
	}
	return nil
}

// patternLine is the line of data that holds its n-th pattern (0-based),
// counting lines as ignorefile.ReadAll does.
func patternLine(data []byte, n int) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if line == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		if n == 0 {
			return line
		}
		n--
	}
	return 0
}

// longLine is the first line of data that bufio.Scanner cannot hold.
func longLine(data []byte) int {
	for line := 1; len(data) > 0; line++ {
		l, rest, _ := bytes.Cut(data, []byte("\n"))
		if len(l) >= bufio.MaxScanTokenSize {
			return line
		}
		data = rest
	}
	return 0
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
