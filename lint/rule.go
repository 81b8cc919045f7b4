package lint

import (
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
)

// Rule is one check.
type Rule struct {
	Code     string   // stable identifier: "DL3008", "StageNameCasing"
	Severity Severity // default severity
	// Message is the one-line message of a finding (rules may report a more
	// specific one).
	Message string
	// Doc is the rule's documentation for `strata lint --explain`: why it
	// matters and how to fix it, with a bad and a good example.
	Doc string
	URL string
	// Experimental rules run only when asked for.
	Experimental bool
	// SameAs names another rule that reports the same problem (a BuildKit
	// check that duplicates a hadolint rule). The pair gives one finding,
	// under the other rule's code; ignoring either code silences both.
	SameAs string
	// Overlaps names a rule that reports some of the same problems with
	// its own logic (a BuildKit check whose cases differ from a hadolint
	// rule's). Both run; where both fire on the same line, only the other
	// rule's finding is kept.
	Overlaps string
	// Check inspects d and reports through r.
	Check func(d *Document, r *Reporter)
}

// Rules returns every rule, sorted by code.
func Rules() []*Rule { return slices.Clone(ruleIndex().all) }

// ruleSets are the rule tables, one per file that defines rules.
var ruleSets = [][]*Rule{}

// registerRules adds a table of rules; each rules file calls it from init.
func registerRules(rules ...*Rule) { setRuleSets(append(ruleSets, rules)) }

// setRuleSets replaces the rule tables (tests use it to add rules for a
// while) and drops the index built from the old ones.
func setRuleSets(sets [][]*Rule) {
	ruleSets = sets
	rulesIndexed.Store(nil)
}

// ruleRegistry is the registry indexed: sorted, and by code.
type ruleRegistry struct {
	all    []*Rule
	byCode map[string]*Rule
}

// rulesIndexed caches the index; Check reads it for every document.
var rulesIndexed atomic.Pointer[ruleRegistry]

func ruleIndex() *ruleRegistry {
	if idx := rulesIndexed.Load(); idx != nil {
		return idx
	}
	idx := &ruleRegistry{byCode: map[string]*Rule{}}
	for _, set := range ruleSets {
		idx.all = append(idx.all, set...)
	}
	sort.SliceStable(idx.all, func(i, j int) bool { return idx.all[i].Code < idx.all[j].Code })
	for _, r := range idx.all {
		if _, dup := idx.byCode[r.Code]; !dup {
			idx.byCode[r.Code] = r
		}
	}
	rulesIndexed.Store(idx)
	return idx
}

// RuleByCode finds a rule.
func RuleByCode(code string) (*Rule, bool) {
	r, ok := ruleIndex().byCode[code]
	return r, ok
}

// Reporter collects the findings of one rule on one document.
type Reporter struct {
	rule     *Rule
	doc      *Document
	findings []Finding
}

// Report adds a finding at the given instruction's first line with the
// rule's message.
func (r *Reporter) Report(in *Instruction) { r.Reportf(in, "%s", r.rule.Message) }

// Reportf adds a finding at the instruction with its own message.
func (r *Reporter) Reportf(in *Instruction, format string, args ...any) {
	r.add(Finding{Line: in.Line, EndLine: in.EndLine, Message: fmt.Sprintf(format, args...)})
}

// ReportAt adds a finding at an exact position (1-based line and column;
// column 0 for the whole line).
func (r *Reporter) ReportAt(line, col int, format string, args ...any) {
	r.add(Finding{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// ReportFix adds a finding at the instruction with a safe fix.
func (r *Reporter) ReportFix(in *Instruction, fix Edit, format string, args ...any) {
	r.add(Finding{Line: in.Line, EndLine: in.EndLine, Message: fmt.Sprintf(format, args...), Fix: &fix})
}

// ReportOther adds a finding under a code of its own rather than the
// rule's (ShellCheck's SC codes, found by the rule that runs shellcheck),
// with the finding's own severity, URL and position; File is filled in.
func (r *Reporter) ReportOther(f Finding) {
	f.File = r.doc.File
	r.findings = append(r.findings, f)
}

// Add adds a finding made by the rule; Code, Severity, File and URL are
// filled in.
func (r *Reporter) add(f Finding) {
	f.Code, f.Severity, f.File, f.URL = r.rule.Code, r.rule.Severity, r.doc.File, r.rule.URL
	if f.Message == "" {
		f.Message = r.rule.Message
	}
	r.findings = append(r.findings, f)
}

// Config is what a rule may read of the configuration.
func (r *Reporter) Config() *Config { return r.doc.config }

// sortFindings orders findings by file position, then code.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		switch {
		case a.Line != b.Line:
			return a.Line - b.Line
		case a.Column != b.Column:
			return a.Column - b.Column
		case a.Code < b.Code:
			return -1
		case a.Code > b.Code:
			return 1
		}
		return 0
	})
}
