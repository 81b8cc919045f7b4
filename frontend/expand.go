package frontend

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Expansion can make a word far longer than the Dockerfile that holds it:
// each ARG or ENV that repeats the one before (ARG B=$A$A$A$A) multiplies
// the length, so that ten short lines name gigabytes, and ${x//pat/repl}
// repeats repl for every match in x. BuildKit's lexer has no limit, so
// ExpandWord gives it a budget.

// MaxExpansion is the most bytes one word may expand to, and the most
// bytes of variable values it may read to do so (a value read only to test
// it, as in ${A:+x}, counts too).
const MaxExpansion = 1 << 20

// maxPlanExpansion is the most bytes that Plan's expansions (the global
// ARGs and the FROM lines) may make in all.
const maxPlanExpansion = 16 * MaxExpansion

// ErrExpansionTooLarge is the error of a word whose value would be
// longer than MaxExpansion.
var ErrExpansionTooLarge = fmt.Errorf("its value would be longer than %d MiB: shorten the variables it uses (each ARG or ENV that repeats another multiplies the length)", MaxExpansion>>20)

// ExpandWord expands word with lex and env as lex.ProcessWord does, but
// fails with ErrExpansionTooLarge rather than build a value of more than
// MaxExpansion bytes, and without ever building much more than that.
func ExpandWord(lex *shell.Lex, word string, env shell.EnvGetter) (string, error) {
	b := &boundedEnv{env: env, left: expansionBudget(word)}
	v, _, err := lex.ProcessWord(word, b)
	if b.over || len(v) > MaxExpansion {
		return "", fmt.Errorf("expanding %s: %w", shortQuote(word), ErrExpansionTooLarge)
	}
	return v, err
}

// replaceAll finds the ${name//pattern/replacement} substitutions of a
// word (and, harmlessly, some lookalikes inside quotes).
var replaceAll = regexp.MustCompile(`\$\{[^{}$/:]*//`)

// expansionBudget is how many bytes of variable values expanding word may
// read. The value is at most the word plus what it reads, unless it
// replaces all matches: ${x//p/r} is up to len(x)*(len(r)+1) long, where r
// may itself be expanded, or hold another ${y//p/r}. The budget keeps the
// worst case within 16 MiB.
func expansionBudget(word string) int {
	k := len(replaceAll.FindAllStringIndex(word, -1))
	switch {
	case k == 0:
		return MaxExpansion
	case strings.Count(word, "$") == k:
		// Nothing but the k substitutions' own names is expanded: each
		// replacement is literal, so at most the word long.
		return min(MaxExpansion, maxPlanExpansion/(len(word)+2))
	default:
		// Nested, at worst: (len(word)+budget)^(k+1).
		root := math.Pow(maxPlanExpansion, 1/float64(k+1))
		return max(0, min(MaxExpansion, int(root)-len(word)))
	}
}

// boundedEnv reads variables from env until their values add up to
// left bytes; past that it reads every value as "" and records that it
// ran over.
type boundedEnv struct {
	env  shell.EnvGetter
	left int
	over bool
}

func (e *boundedEnv) Get(key string) (string, bool) {
	v, ok := e.env.Get(key)
	if len(v) > e.left {
		e.over, e.left = true, 0
		return "", ok
	}
	e.left -= len(v)
	return v, ok
}

func (e *boundedEnv) Keys() []string { return e.env.Keys() }

// shortQuote quotes s for an error message, cut to its first 40 bytes.
func shortQuote(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q...", s[:40])
	}
	return fmt.Sprintf("%q", s)
}

// scope is a "K=V" list that can also be read as a shell.EnvGetter, with
// an index so that setting or reading a variable neither copies nor scans
// the list, as setEnv and shell.EnvsFromSlice do: with those, a Dockerfile
// of 10,000 ARGs took a minute to plan.
type scope struct {
	list []string
	at   map[string]int
}

func newScope(env []string) *scope {
	s := &scope{at: make(map[string]int, len(env))}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		s.set(k, v)
	}
	return s
}

// set sets k=v as setEnv does: in place if k is set, else at the end.
func (s *scope) set(k, v string) {
	if i, ok := s.at[shell.NormalizeEnvKey(k)]; ok {
		s.list[i] = k + "=" + v
		return
	}
	s.at[shell.NormalizeEnvKey(k)] = len(s.list)
	s.list = append(s.list, k+"="+v)
}

func (s *scope) Get(k string) (string, bool) {
	i, ok := s.at[shell.NormalizeEnvKey(k)]
	if !ok {
		return "", false
	}
	_, v, _ := strings.Cut(s.list[i], "=")
	return v, true
}

func (s *scope) Keys() []string {
	keys := make([]string, len(s.list))
	for i, kv := range s.list {
		keys[i], _, _ = strings.Cut(kv, "=")
	}
	return keys
}

// errPlanExpansion is the error of a Dockerfile whose global ARGs and
// FROM lines expand to more than maxPlanExpansion bytes in all.
var errPlanExpansion = errors.New("the ARGs before the first FROM and the FROM lines expand to more than 16 MiB in all: shorten the values they repeat")
