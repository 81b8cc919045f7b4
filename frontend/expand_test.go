package frontend

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// doubling is a Dockerfile whose global ARGs each repeat the one before
// ten times: the last would be 10^levels bytes long.
func doubling(levels int) string {
	var b strings.Builder
	b.WriteString("ARG L0=aaaaaaaaaa\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "ARG L%d=%s\n", i, strings.Repeat(fmt.Sprintf("$L%d", i-1), 10))
	}
	b.WriteString("FROM scratch\n")
	return b.String()
}

func TestPlanExpansionLimits(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct{ name, df, want string }{
		{"ARGs that multiply", doubling(12), `Dockerfile:7: expanding "$L5$L5$L5$L5$L5$L5$L5$L5$L5$L5": its value would be longer than 1 MiB: shorten the variables it uses`},
		{"FROM that multiplies", doubling(5) + "FROM $L5$L5$L5$L5$L5$L5$L5$L5$L5$L5$L5\n", "Dockerfile:8: expanding"},
		{"replace all", "ARG A=" + strings.Repeat("a", 4096) + "\nARG B=${A//?/$A}\nFROM scratch\n", "Dockerfile:2: expanding \"${A//?/$A}\": its value would be longer than 1 MiB"},
		{"nested replace all", "ARG A=aaaaaaaaaaaaaaaaaaaaaaaa\nARG B=${A//?/${A//?/${A//?/${A//?/$A}}}}\nFROM scratch\n", "Dockerfile:2: expanding"},
		{"many long ARGs", "ARG A=" + strings.Repeat("a", 1000) + "\nARG B=" + strings.Repeat("$A", 1000) + "\n" + strings.Repeat("ARG C=$B\n", 20) + "FROM scratch\n",
			"Dockerfile:18: the ARGs before the first FROM and the FROM lines expand to more than 16 MiB in all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			d, err := Parse("Dockerfile", []byte(tt.df))
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Plan(Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Plan = %v, want %q", err, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Errorf("Plan error %T is not a *frontend.Error", err)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("Plan took %v", el)
			}
		})
	}
	// What stays within the limits expands as before.
	for _, df := range []string{
		doubling(5),
		"ARG A=" + long + "\nARG B=${A//x/y}\nFROM scratch\n",
		"ARG LIST=" + strings.Repeat("a:", 20000) + "\nARG B=${LIST//:/,}\nFROM scratch\n",
		"ARG HOST=h\nARG URL=https://${HOST}//x\nFROM scratch\n",
	} {
		d, err := Parse("Dockerfile", []byte(df))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Plan(Options{}); err != nil {
			t.Errorf("Plan(%.60q) = %v", df, err)
		}
	}
}

func TestExpandWord(t *testing.T) {
	env := newScope([]string{"A=" + strings.Repeat("a", 400<<10), "B=b"})
	lex := shell.NewLex('\\')
	for _, tt := range []struct {
		word string
		ok   bool
	}{
		{"$A", true}, {"$A$A$B", true}, {"$A$A$A", false}, {"${A:+$A}", true}, {"${A:-x}${A#a}${A%a}", false},
		// A value read to test it counts too.
		{"${A:+$A}${A:+x}", false},
		{"${B//b/$A}", false}, {"${B//b/x}", true}, {"${C:-$A}", true},
	} {
		v, err := ExpandWord(lex, tt.word, env)
		if tt.ok && (err != nil || len(v) < 1) || !tt.ok && !errors.Is(err, ErrExpansionTooLarge) {
			t.Errorf("ExpandWord(%q) = %d bytes, %v, want ok=%v", tt.word, len(v), err, tt.ok)
		}
	}
}

// TestPlanManyArgs: 10,000 global ARGs and 2,000 stages plan in linear
// time (each ARG and each FROM used to copy the whole list of ARGs, and a
// Dockerfile like this took a minute).
func TestPlanManyArgs(t *testing.T) {
	var b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&b, "ARG A%d=${A%d}x\n", i, i%100)
	}
	for i := range 2000 {
		fmt.Fprintf(&b, "FROM ${A%d}:%d AS s%d\n", i, i, i)
	}
	d, err := Parse("Dockerfile", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p, err := d.Plan(Options{})
	if err != nil {
		t.Fatalf("Plan(10,000 ARGs) = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("planning 10,000 ARGs took %v", el)
	}
	if got := p.All[1999].Base; got != "xx:1999" {
		t.Errorf("last stage's base = %q, want xx:1999", got)
	}
}
