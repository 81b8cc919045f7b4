package lint

import "fmt"

// Lint parses src and runs every rule on it with cfg (nil means
// DefaultConfig). Findings come back in file order.
func Lint(file string, src []byte, cfg *Config) []Finding {
	return Check(Parse(file, src), cfg)
}

// Check runs every rule on a parsed document.
func Check(d *Document, cfg *Config) []Finding {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	d.config = cfg
	if d.ParseErr != nil {
		return []Finding{{Code: "DL1000", Severity: Error, File: d.File, Line: max(d.ParseErrLine, 1), Message: d.ParseErr.Error()}}
	}
	var out []Finding
	for _, in := range d.All {
		if in.ParseErr != nil {
			out = append(out, Finding{Code: "DL1000", Severity: Error, File: d.File, Line: in.Line, EndLine: in.EndLine, Message: fmt.Sprint(in.ParseErr)})
		}
	}
	// Codes silenced by configuration, with their SameAs partners.
	ignored := map[string]bool{}
	for _, c := range cfg.Ignored {
		ignored[c] = true
	}
	for c, s := range cfg.Override {
		if s == Ignore {
			ignored[c] = true
		}
	}
	for _, rule := range Rules() {
		if rule.SameAs != "" && ignored[rule.SameAs] {
			ignored[rule.Code] = true
		}
		if rule.SameAs != "" && ignored[rule.Code] {
			ignored[rule.SameAs] = true
		}
	}
	for _, rule := range Rules() {
		if rule.Experimental && !cfg.Experimental {
			continue
		}
		if ignored[rule.Code] {
			continue
		}
		if _, ok := RuleByCode(rule.SameAs); ok && rule.SameAs != "" {
			continue // the other rule reports it
		}
		sev := rule.Severity
		if s, ok := cfg.Override[rule.Code]; ok {
			sev = s
		}
		r := &Reporter{rule: rule, doc: d}
		rule.Check(d, r)
		for _, f := range r.findings {
			f.Severity = sev
			out = append(out, f)
		}
	}
	sortFindings(out)
	return out
}
