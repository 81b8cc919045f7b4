package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stratabuild/strata/internal/testregistry"
)

// rawEvent is a line of --progress=rawjson, with the fields the README
// documents and no others.
type rawEvent struct {
	Kind     string   `json:"kind"`
	Stage    string   `json:"stage"`
	Step     int      `json:"step"`
	Total    int      `json:"total"`
	Name     string   `json:"name"`
	Cached   *bool    `json:"cached"`
	Reason   *rawMiss `json:"reason"`
	Line     string   `json:"line"`
	Duration *float64 `json:"duration"`
	Message  string   `json:"message"`
}

type rawMiss struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
	Text string `json:"text"`
}

// parseRawJSON checks that every line of stderr is one JSON object with
// the documented fields, consistent with its kind, and returns them.
func parseRawJSON(t *testing.T, stderr string) []rawEvent {
	t.Helper()
	var evs []rawEvent
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var e rawEvent
		if err := dec.Decode(&e); err != nil || dec.More() {
			t.Fatalf("rawjson line %q: not one JSON object of the documented fields: %v", line, err)
		}
		step := e.Stage != "" && e.Step > 0 && e.Total >= e.Step && e.Name != ""
		isFrom := strings.HasPrefix(e.Name, "FROM ")
		var bad string
		switch e.Kind {
		case "message":
			if e.Message == "" || e.Stage != "" {
				bad = "a message needs message and nothing else"
			}
		case "cached":
			if !step || e.Cached == nil || !*e.Cached || e.Reason != nil {
				bad = "cached needs the step and cached: true"
			}
		case "start", "planned":
			switch {
			case !step:
				bad = "no step"
			case isFrom && (e.Cached != nil || e.Reason != nil):
				bad = "FROM is no cache decision"
			case !isFrom && (e.Cached == nil || *e.Cached || e.Reason == nil || e.Reason.Kind == "" || e.Reason.Text == ""):
				bad = "a miss needs cached: false and a reason with kind and text"
			}
		case "done":
			if !step || e.Duration == nil || e.Reason != nil || isFrom != (e.Cached == nil) {
				bad = "done needs the step and a duration"
			}
		case "log":
			if !step || e.Cached != nil {
				bad = "log needs the step and no cached"
			}
		default:
			bad = "unknown kind"
		}
		if bad != "" {
			t.Fatalf("rawjson line %q: %s", line, bad)
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		t.Fatalf("no rawjson lines in stderr")
	}
	return evs
}

// decision is what the cache decided for a step.
type decision struct {
	name   string
	cached bool
	reason *rawMiss
}

// decisions gives each step's decision by step number (FROM excluded).
func decisions(evs []rawEvent) map[int]decision {
	out := map[int]decision{}
	for _, e := range evs {
		switch {
		case e.Kind == "cached":
			out[e.Step] = decision{name: e.Name, cached: true}
		case (e.Kind == "start" || e.Kind == "planned") && e.Reason != nil:
			out[e.Step] = decision{name: e.Name, reason: e.Reason}
		}
	}
	return out
}

func TestExplainCache(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	busybox := busyboxBase(t, reg, cache)

	// The base the test changes: busybox as is, then with one more file,
	// under the same tag.
	base := reg + "/test/base:1"
	pushBase := func(dockerfile string) {
		t.Helper()
		dir := writeContext(t, dockerfile, map[string]string{"extra.txt": "extra\n"})
		mustStrata(t, "build", "--progress=quiet", "--cache-dir", cache, "--build-arg", "BB="+busybox, "-t", base, "--push", dir)
	}
	pushBase("ARG BB\nFROM $BB\n")

	dockerfile := func(env, last string) string {
		return "ARG BASE\nFROM $BASE AS app\nARG V=1\nENV E=" + env + "\n" +
			"COPY keep.txt /keep.txt\n" +
			"COPY a.txt /a.txt\n" +
			"RUN cat /a.txt > /b.txt && echo \"$V $E\" > /v.txt && echo ran\n" +
			"RUN " + last + "\n"
	}
	ctxDir := writeContext(t, dockerfile("1", "echo done > /done.txt"), map[string]string{"keep.txt": "keep\n", "a.txt": "one\n"})
	args := []string{"--build-arg", "BASE=" + base}
	build := func(extra ...string) []rawEvent {
		t.Helper()
		a := append([]string{"build", "--progress=rawjson", "--explain-cache", "--cache-dir", cache}, args...)
		r := mustStrata(t, append(append(a, extra...), ctxDir)...)
		return parseRawJSON(t, r.stderr)
	}
	const (
		keep  = 2 // COPY keep.txt
		copyA = 3
		run1  = 4
		run2  = 5
	)
	// check asserts that the steps before first came from the cache and
	// that first missed for want (Old and New: "digest" asks for two
	// different well-formed digests).
	check := func(t *testing.T, evs []rawEvent, first int, want rawMiss) {
		t.Helper()
		d := decisions(evs)
		for s := keep; s < first; s++ {
			if !d[s].cached {
				t.Errorf("step %d (%s): want a cache hit before the change, got %+v", s, d[s].name, d[s].reason)
			}
		}
		got := d[first].reason
		if got == nil {
			t.Fatalf("step %d (%s): want a miss (%s %s), got a hit", first, d[first].name, want.Kind, want.Name)
		}
		if got.Kind != want.Kind || got.Name != want.Name {
			t.Errorf("step %d: reason %s %q (%s), want %s %q", first, got.Kind, got.Name, got.Text, want.Kind, want.Name)
		}
		if want.Old == "digest" {
			if !digestRE.MatchString(got.Old) || !digestRE.MatchString(got.New) || got.Old == got.New {
				t.Errorf("step %d: old %q, new %q: want two different digests", first, got.Old, got.New)
			}
		} else if got.Old != want.Old || got.New != want.New {
			t.Errorf("step %d: old %q, new %q, want %q, %q", first, got.Old, got.New, want.Old, want.New)
		}
		if want.Text != "" && got.Text != want.Text {
			t.Errorf("step %d: text %q, want %q", first, got.Text, want.Text)
		}
		// The step after is explained by this one, or, for a variable,
		// which every RUN reads, by the variable too.
		if first < run2 {
			next := d[first+1]
			switch want.Kind {
			case "arg", "env":
				if next.reason == nil || next.reason.Kind != want.Kind || next.reason.Name != want.Name {
					t.Errorf("step %d: reason %+v, want %s %s", first+1, next.reason, want.Kind, want.Name)
				}
			default:
				if next.reason == nil || next.reason.Kind != "step" || next.reason.Name != "[app "+strconv.Itoa(first)+"/5] "+d[first].name {
					t.Errorf("step %d: reason %+v, want the earlier step %q", first+1, next.reason, d[first].name)
				}
			}
		}
	}

	evs := build()
	if d := decisions(evs); d[keep].reason == nil || d[keep].reason.Kind != "new" || d[keep].reason.Text != "no earlier build of this step is recorded" {
		t.Fatalf("first build: step %d reason %+v, want new", keep, d[keep].reason)
	}
	if !slices.ContainsFunc(evs, func(e rawEvent) bool { return e.Kind == "log" && e.Step == run1 && e.Line == "ran" }) {
		t.Errorf("no log event with the output of step %d", run1)
	}

	t.Run("file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(ctxDir, "a.txt"), []byte("two\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, build(), copyA, rawMiss{Kind: "file", Name: "a.txt", Old: "digest"})
	})
	t.Run("mode", func(t *testing.T) {
		if err := os.Chmod(filepath.Join(ctxDir, "a.txt"), 0o755); err != nil {
			t.Fatal(err)
		}
		check(t, build(), copyA, rawMiss{Kind: "mode", Name: "a.txt", Old: "0644", New: "0755", Text: "file a.txt mode changed (0644 → 0755)"})
	})
	t.Run("arg", func(t *testing.T) {
		args = append(args, "--build-arg", "V=2")
		check(t, build(), run1, rawMiss{Kind: "arg", Name: "V", Old: "1", New: "2", Text: `build arg V changed ("1" → "2")`})
	})
	t.Run("env", func(t *testing.T) {
		// The ENV line is no step: the RUN that sees E explains.
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile("2", "echo done > /done.txt")), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, build(), run1, rawMiss{Kind: "env", Name: "E", Old: "1", New: "2", Text: `env E changed ("1" → "2")`})
	})
	t.Run("instruction", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile("2", "echo finished > /done.txt")), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, build(), run2, rawMiss{Kind: "instruction", Old: "RUN echo done > /done.txt", New: "RUN echo finished > /done.txt",
			Text: `instruction changed: "RUN echo done > /done.txt" → "RUN echo finished > /done.txt" (line 8)`})
	})
	t.Run("base", func(t *testing.T) {
		pushBase("ARG BB\nFROM $BB\nCOPY extra.txt /extra.txt\n")
		check(t, build(), keep, rawMiss{Kind: "base", Name: base, Old: "digest"})
	})
	t.Run("plain", func(t *testing.T) {
		// Plain progress says it on the step's line, with short digests.
		if err := os.WriteFile(filepath.Join(ctxDir, "a.txt"), []byte("three\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a := append([]string{"build", "--progress=plain", "--explain-cache", "--cache-dir", cache}, args...)
		r := mustStrata(t, append(a, ctxDir)...)
		want := "[app 3/5] COPY a.txt /a.txt: miss: file a.txt changed (sha256:"
		if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "[app 2/5] COPY keep.txt /keep.txt: CACHED") ||
			!strings.Contains(r.stderr, "[app 4/5] RUN cat /a.txt > /b.txt && echo \"$V $E\" > /v.txt && echo ran: miss: earlier step [app 3/5] COPY a.txt /a.txt changed") {
			t.Errorf("plain progress lacks %q:\n%s", want, r.stderr)
		}
		// Without --explain-cache, no reasons.
		if err := os.WriteFile(filepath.Join(ctxDir, "a.txt"), []byte("four\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a = append([]string{"build", "--progress=plain", "--cache-dir", cache}, args...)
		if r := mustStrata(t, append(a, ctxDir)...); strings.Contains(r.stderr, "miss:") {
			t.Errorf("reasons without --explain-cache:\n%s", r.stderr)
		}
	})
}

// cacheFiles lists the cache directory's entries, except the context
// mirror (which --plan may sync), work in progress and locks.
func cacheFiles(t *testing.T, cache string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(cache, p)
		top := strings.Split(rel, string(filepath.Separator))[0]
		if top == "context" || top == "tmp" || strings.HasSuffix(rel, ".lock") {
			if d.IsDir() && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlan(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	// RUN counts its runs in a cache mount: a side effect outside the
	// image that --plan must not have.
	ctxDir := writeContext(t, "ARG BASE\nFROM $BASE AS app\n"+
		"COPY keep.txt /keep.txt\n"+
		"COPY a.txt /a.txt\n"+
		"RUN --mount=type=cache,target=/runs echo x >> /runs/count && cat /a.txt > /b.txt\n"+
		"RUN echo two > /two.txt\n",
		map[string]string{"keep.txt": "keep\n", "a.txt": "one\n"})
	args := []string{"build", "--cache-dir", cache, "--build-arg", "BASE=" + base}
	mustStrata(t, append(args, "--progress=quiet", ctxDir)...)
	runs := func() string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(cache, "cachemounts", "*", "*", "count"))
		if len(m) != 1 {
			t.Fatalf("cache mount files %v, want one count", m)
		}
		data, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got := runs(); got != "x\n" {
		t.Fatalf("runs after the first build = %q", got)
	}

	if err := os.WriteFile(filepath.Join(ctxDir, "a.txt"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := cacheFiles(t, cache)
	out := filepath.Join(t.TempDir(), "out")
	r := mustStrata(t, append(args, "--plan", "--progress=plain", "-o", "type=local,dest="+out, ctxDir)...)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{
		"[app 1/5] FROM " + base + ": base sha256:",
		"[app 2/5] COPY keep.txt /keep.txt: cached",
		"[app 3/5] COPY a.txt /a.txt: run: file a.txt changed (sha256:",
		"[app 4/5] RUN --mount=type=cache,target=/runs echo x >> /runs/count && cat /a.txt > /b.txt: run: earlier step [app 3/5] COPY a.txt /a.txt changed",
		"[app 5/5] RUN echo two > /two.txt: run: earlier step [app 4/5] RUN --mount=type=cache,target=/runs echo x >> /runs/count && cat /a.txt > /b.txt changed",
	}
	if len(lines) != len(want) {
		t.Fatalf("--plan printed\n%s\nwant %d lines like\n%s", r.stdout, len(want), strings.Join(want, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("--plan line %d = %q, want %q...", i+1, lines[i], w)
		}
	}
	if !strings.Contains(r.stderr, "plan: 3 steps would run, 1 cached") {
		t.Errorf("stderr lacks the plan's summary:\n%s", r.stderr)
	}
	if after := cacheFiles(t, cache); !slices.Equal(before, after) {
		t.Errorf("--plan changed the cache:\nbefore %v\nafter  %v", before, after)
	}
	if got := runs(); got != "x\n" {
		t.Errorf("--plan ran RUN: runs = %q", got)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--plan exported the image: %v", err)
	}

	// The real build runs what the plan said, and only that.
	md := filepath.Join(t.TempDir(), "md.json")
	mustStrata(t, append(args, "--progress=quiet", "--metadata-file", md, ctxDir)...)
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Steps []struct {
			Step   int    `json:"step"`
			Name   string `json:"name"`
			Base   string `json:"base"`
			Cached bool   `json:"cached"`
			Reason *struct {
				Kind string `json:"kind"`
				Text string `json:"text"`
			} `json:"reason"`
		} `json:"strata.steps"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, s := range m.Steps {
		switch {
		case s.Base != "":
			got.WriteString(s.Name + ": base\n")
		case s.Cached:
			got.WriteString(s.Name + ": cached\n")
		default:
			got.WriteString(s.Name + ": run: " + s.Reason.Text + "\n")
		}
	}
	var planned bytes.Buffer
	for _, l := range lines {
		l = l[strings.Index(l, "] ")+2:]
		if i := strings.Index(l, ": base "); i >= 0 {
			l = l[:i] + ": base"
		}
		planned.WriteString(l + "\n")
	}
	if got.String() != planned.String() {
		t.Errorf("the build did\n%s\nthe plan said\n%s", got.String(), planned.String())
	}
	if got := runs(); got != "x\nx\n" {
		t.Errorf("runs after the second build = %q, want two", got)
	}
}

func TestProgressRawJSON(t *testing.T) {
	requireE2E(t)
	cache := t.TempDir()
	ctxDir := writeContext(t, "FROM scratch\nCOPY a.txt /a.txt\nWORKDIR /w\n", map[string]string{"a.txt": "a\n"})
	r := mustStrata(t, "build", "--progress=rawjson", "--cache-dir", cache, ctxDir)
	evs := parseRawJSON(t, r.stderr)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if want := "start done start done message message"; strings.Join(kinds, " ") != want {
		t.Errorf("kinds = %s, want %s", strings.Join(kinds, " "), want)
	}
	if e := evs[0]; e.Stage != "stage-0" || e.Step != 1 || e.Total != 2 || e.Name != "COPY a.txt /a.txt" || e.Reason.Kind != "new" {
		t.Errorf("first event = %+v", e)
	}
	if !digestRE.MatchString(strings.TrimSpace(r.stdout)) {
		t.Errorf("stdout = %q, want the digest", r.stdout)
	}
	r = mustStrata(t, "build", "--progress=rawjson", "--cache-dir", cache, ctxDir)
	d := decisions(parseRawJSON(t, r.stderr))
	if !d[1].cached || !d[2].cached {
		t.Errorf("rebuild: %+v, want both cached", d)
	}
}
