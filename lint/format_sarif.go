package lint

import (
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
)

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), the
// subset strata writes: one run, the rules its results refer to, and the
// results with their physical locations. GitHub code scanning reads it.

const (
	sarifSchema    = "https://json.schemastore.org/sarif-2.1.0.json"
	strataHome     = "https://github.com/stratabuild/strata"
	shellcheckWiki = "https://www.shellcheck.net/wiki/"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      *sarifText         `json:"fullDescription,omitempty"`
	HelpURI              string             `json:"helpUri,omitempty"`
	Help                 *sarifText         `json:"help,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// sarifLevel maps a severity to SARIF's levels: info and style are notes.
func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Ignore:
		return "none"
	}
	return "note"
}

// writeSARIF writes one SARIF log with one run for all the files.
func writeSARIF(w io.Writer, r Report, opts FormatOptions) error {
	driver := sarifDriver{Name: "strata", InformationURI: strataHome, Version: opts.Version, Rules: []sarifRule{}}
	index := map[string]int{}
	var codes []string
	first := map[string]Finding{}
	for _, f := range r.Findings {
		if _, seen := first[f.Code]; !seen {
			first[f.Code] = f
			codes = append(codes, f.Code)
		}
	}
	sort.Strings(codes)
	for _, code := range codes {
		index[code] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRuleFor(code, first[code]))
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		region := sarifRegion{StartLine: max(f.Line, 1), StartColumn: findingColumn(f)}
		if f.EndLine > region.StartLine {
			region.EndLine = f.EndLine
		}
		if f.EndColumn > 0 && (f.EndLine > f.Line || f.EndColumn > region.StartColumn) {
			region.EndColumn = f.EndColumn
		}
		results = append(results, sarifResult{
			RuleID:    f.Code,
			RuleIndex: index[f.Code],
			Level:     sarifLevel(f.Severity),
			Message:   sarifText{Text: f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: sarifURI(f.File)},
				Region:           region,
			}}},
		})
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	return encodeJSON(w, log, "  ")
}

// sarifRuleFor describes the rule of code; f is its first finding, which
// describes codes that are not registered rules (ShellCheck's, DL1000).
func sarifRuleFor(code string, f Finding) sarifRule {
	sr := sarifRule{ID: code, ShortDescription: sarifText{Text: f.Message}, DefaultConfiguration: sarifConfiguration{Level: sarifLevel(f.Severity)}}
	if rule, ok := RuleByCode(code); ok {
		sr.ShortDescription.Text = rule.Message
		sr.DefaultConfiguration.Level = sarifLevel(rule.Severity)
		if doc := strings.TrimSpace(rule.Doc); doc != "" {
			sr.FullDescription = &sarifText{Text: doc}
			sr.Help = &sarifText{Text: doc}
		}
		sr.HelpURI = absoluteURL(rule.URL)
	}
	switch {
	case code == "DL1000":
		sr.ShortDescription.Text = "The Dockerfile does not parse."
	case sr.HelpURI == "" && hadolintCodeRE.MatchString(code) && strings.HasPrefix(code, "SC"):
		sr.HelpURI = shellcheckWiki + code
	case sr.HelpURI == "":
		sr.HelpURI = absoluteURL(f.URL)
	}
	return sr
}

// absoluteURL is u when it is an absolute URL, else "".
func absoluteURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() {
		return ""
	}
	return u
}

// sarifURI is a file's path as a URI reference: relative paths stay
// relative (to the directory lint ran in, which code scanning takes as the
// repository's root), absolute ones become file URIs.
func sarifURI(file string) string {
	p := filepath.ToSlash(file)
	u := url.URL{Path: p}
	if filepath.IsAbs(file) {
		u.Scheme = "file"
		if !strings.HasPrefix(p, "/") {
			u.Path = "/" + p // C:/x
		}
	}
	return u.String()
}
