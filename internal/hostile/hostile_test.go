package hostile

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRecordAndRead(t *testing.T) {
	log := filepath.Join(t.TempDir(), "cases.jsonl")
	t.Setenv(EnvVar, log)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			c := Case{Name: strings.Repeat("x", i*40)}
			c.WroteOutside = i == 7
			c.LeakedSecret = i == 7 || i == 9
			if err := Record(c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "hostile inputs: 50 cases ran; 1 wrote outside the build root; 2 leaked a secret"
	if s.String() != want || len(s.Failed) != 2 {
		t.Errorf("Read = %q, %q, want %q and 2 failed", s, s.Failed, want)
	}
}

func TestRecordUnset(t *testing.T) {
	t.Setenv(EnvVar, "")
	if err := Record(Case{Name: "x"}); err != nil {
		t.Errorf("Record without %s: %v", EnvVar, err)
	}
}
