package lint

import "fmt"

// Lint parses src and runs every rule on it with cfg (nil means
// DefaultConfig). Findings come back in file order.
func Lint(file string, src []byte, cfg *Config) []Finding {
	return Check(Parse(file, src), cfg)
}

// Check runs every rule on a parsed document, then applies the
// configuration (ignored codes, severity overrides) and the document's
// pragmas (see pragmas). Findings of severity Ignore are dropped.
func Check(d *Document, cfg *Config) []Finding {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	// The document's own copy of the configuration carries its pragmas,
	// which rules read through the Document.
	own := *cfg
	own.pragmas = parsePragmas(d)
	cfg, d.config = &own, &own
	if d.ParseErr != nil {
		return []Finding{{Code: "DL1000", Severity: Error, File: d.File, Line: max(d.ParseErrLine, 1), Message: d.ParseErr.Error()}}
	}
	var out []Finding
	for _, in := range d.All {
		if in.ParseErr != nil {
			out = append(out, Finding{Code: "DL1000", Severity: Error, File: d.File, Line: in.Line, EndLine: in.EndLine, Message: fmt.Sprint(in.ParseErr)})
		}
	}
	p := cfg.pragmas
	if p.checkErr != nil {
		out = append(out, Finding{Code: "DL1000", Severity: Error, File: d.File, Line: max(p.checkLine, 1), Message: fmt.Sprintf("check directive: %v", p.checkErr)})
	}
	e := newEffective(cfg)
	for _, rule := range Rules() {
		if rule.Experimental && !cfg.Experimental && !p.experimental(rule.Code) {
			continue
		}
		if rule.SameAs != "" {
			if _, ok := RuleByCode(rule.SameAs); ok {
				continue // the other rule reports it
			}
		}
		if e.ignored(rule.Code) {
			continue
		}
		ruleSev, _ := e.severity(rule.Code, rule.Severity)
		if ruleSev == Ignore {
			continue // off unless the configuration gives it a severity
		}
		r := &Reporter{rule: rule, doc: d}
		rule.Check(d, r)
		for _, f := range r.findings {
			codes := e.same(f.Code)
			if e.ignored(f.Code) {
				continue
			}
			if !cfg.DisableIgnorePragma && p.suppressed(codes, f.Line) {
				continue
			}
			// A finding under the rule's code takes the rule's (overridden)
			// severity; a rule reporting other codes (ShellCheck's) sets
			// theirs, which the configuration may override too.
			if f.Code == rule.Code {
				f.Severity = ruleSev
			} else if s, ok := e.severity(f.Code, f.Severity); ok {
				f.Severity = s
			}
			if p.checkError(codes) {
				f.Severity = Error
			}
			if f.Severity == Ignore {
				continue
			}
			out = append(out, f)
		}
	}
	out = dropOverlaps(out)
	sortFindings(out)
	return out
}

// dropOverlaps removes the findings of a rule with Overlaps set on lines
// where the rule it overlaps also fired: one problem, one finding.
func dropOverlaps(fs []Finding) []Finding {
	overlaps := map[string]string{}
	for _, r := range Rules() {
		if r.Overlaps != "" {
			overlaps[r.Code] = r.Overlaps
		}
	}
	if len(overlaps) == 0 {
		return fs
	}
	type at struct {
		code string
		line int
	}
	fired := map[at]bool{}
	for _, f := range fs {
		fired[at{f.Code, f.Line}] = true
	}
	kept := fs[:0]
	for _, f := range fs {
		if other, ok := overlaps[f.Code]; ok && fired[at{other, f.Line}] {
			continue
		}
		kept = append(kept, f)
	}
	return kept
}

// effective is the configuration as the engine applies it, with each code
// tied to the codes that are the same as it (Rule.SameAs, both ways).
type effective struct {
	cfg      *Config
	ignore   map[string]bool
	partners map[string][]string
}

func newEffective(cfg *Config) *effective {
	e := &effective{cfg: cfg, ignore: map[string]bool{}, partners: map[string][]string{}}
	for _, r := range Rules() {
		if r.SameAs != "" {
			e.partners[r.Code] = append(e.partners[r.Code], r.SameAs)
			e.partners[r.SameAs] = append(e.partners[r.SameAs], r.Code)
		}
	}
	for _, c := range cfg.Ignored {
		e.ignore[normalizeCode(c)] = true
	}
	for c, s := range cfg.Override {
		if s == Ignore {
			e.ignore[normalizeCode(c)] = true
		}
	}
	return e
}

// same is code and the codes that are the same as it.
func (e *effective) same(code string) []string {
	return append([]string{code}, e.partners[code]...)
}

// ignored reports whether the configuration silences code or a code that
// is the same as it.
func (e *effective) ignored(code string) bool {
	for _, c := range e.same(code) {
		if e.ignore[c] {
			return true
		}
	}
	return false
}

// severity is code's severity: the configuration's override for the code,
// else for a code that is the same as it, else def. ok reports whether an
// override applied.
func (e *effective) severity(code string, def Severity) (sev Severity, ok bool) {
	for _, c := range e.same(code) {
		if s, found := e.cfg.Override[c]; found {
			return s, true
		}
	}
	return def, false
}
