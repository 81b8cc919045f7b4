package solver

import (
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestEpochKey(t *testing.T) {
	key := hashKey("run", "x")
	none := &Builder{}
	if got := none.epochKey(key); got != key {
		t.Errorf("epochKey without an epoch = %v, want the key itself %v", got, key)
	}
	a := &Builder{opts: Options{SourceDateEpoch: time.Unix(1700000000, 0)}}
	b := &Builder{opts: Options{SourceDateEpoch: time.Unix(1700000001, 0)}}
	zero := &Builder{opts: Options{SourceDateEpoch: time.Unix(0, 0)}}
	seen := map[v1.Hash]string{key: "none"}
	for name, bl := range map[string]*Builder{"1700000000": a, "1700000001": b, "0": zero} {
		k := bl.epochKey(key)
		if other, dup := seen[k]; dup {
			t.Errorf("epochKey with epoch %s = %v, the same as with %s", name, k, other)
		}
		seen[k] = name
		if again := bl.epochKey(key); again != k {
			t.Errorf("epochKey with epoch %s is not stable: %v, then %v", name, k, again)
		}
	}
}

// TestAssembleEpoch: with an epoch, the image's created time is the epoch
// and the base image's history entries are left as they are, even those
// without a time, which fillHistoryTimes would otherwise fill in.
func TestAssembleEpoch(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	baseTime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b, err := New(Options{CacheDir: t.TempDir(), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	r := &stageRun{b: b, st: &stageState{cfg: &v1.ConfigFile{History: []v1.History{
		{CreatedBy: "base: no time", EmptyLayer: true},
		{CreatedBy: "base", Created: v1.Time{Time: baseTime}, EmptyLayer: true},
	}}}}
	r.addHistory("ENV A=1", false)
	r.commit(hashKey("k"), layer{}, "RUN true", baseTime) // as a cache record might say
	// A layer{} has no blob to assemble: drop it, keep its history entry.
	r.st.layers = nil
	r.st.cfg.History[len(r.st.cfg.History)-1].EmptyLayer = true
	res, err := b.assemble(r.st)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Config.Created.Equal(epoch) {
		t.Errorf("created = %v, want the epoch %v", res.Config.Created.Time, epoch)
	}
	want := []time.Time{{}, baseTime, epoch, epoch}
	if len(res.Config.History) != len(want) {
		t.Fatalf("history has %d entries, want %d", len(res.Config.History), len(want))
	}
	for i, h := range res.Config.History {
		if !h.Created.Time.Equal(want[i]) {
			t.Errorf("history[%d] (%s) created %v, want %v", i, h.CreatedBy, h.Created.Time, want[i])
		}
	}
}
