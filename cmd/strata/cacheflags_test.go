package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratabuild/strata/solver"
)

func TestParseCacheFlags(t *testing.T) {
	from := []struct {
		in   string
		want solver.CacheRef
		err  string
	}{
		{in: "reg.example/app:cache", want: solver.CacheRef{Ref: "reg.example/app:cache"}},
		{in: "type=registry,ref=reg.example/app:cache", want: solver.CacheRef{Ref: "reg.example/app:cache"}},
		{in: "type=local,src=/tmp/c", want: solver.CacheRef{Dir: "/tmp/c"}},
		{in: `type=local,"src=/tmp/a,b"`, want: solver.CacheRef{Dir: "/tmp/a,b"}},
		{in: "type=registry", err: "type=registry needs ref="},
		{in: "type=local", err: "type=local needs src=DIR"},
		{in: "type=local,dest=/x", err: `unknown attribute "dest"`},
		{in: "type=gha", err: "type=gha is not supported"},
		{in: "ref=x", err: "missing type="},
		{in: "type=registry,ref=a,ref=b", err: "ref= is given twice"},
		{in: "", err: "empty value"},
	}
	for _, tc := range from {
		got, err := parseCacheFrom(tc.in)
		if !matchUsage(t, "parseCacheFrom", tc.in, err, tc.err) && got != tc.want {
			t.Errorf("parseCacheFrom(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}

	to := []struct {
		in   string
		want solver.CacheExport
		err  string
	}{
		{in: "reg.example/app:cache", want: solver.CacheExport{CacheRef: solver.CacheRef{Ref: "reg.example/app:cache"}, MountMaxSize: defaultMountMaxSize}},
		{in: "type=registry,ref=r/a:c,mode=max,image-manifest=true,oci-mediatypes=true", want: solver.CacheExport{CacheRef: solver.CacheRef{Ref: "r/a:c"}, Max: true, MountMaxSize: defaultMountMaxSize}},
		{in: "type=local,dest=/tmp/c,mode=min,cache-mounts=true,cache-mounts-max-size=1GB", want: solver.CacheExport{CacheRef: solver.CacheRef{Dir: "/tmp/c"}, Mounts: true, MountMaxSize: 1 << 30}},
		{in: "type=registry,ref=r/a:c,mode=all", err: `mode="all": want min or max`},
		{in: "type=registry,ref=r/a:c,cache-mounts=yes please", err: "want true or false"},
		{in: "type=registry,ref=r/a:c,cache-mounts-max-size=lots", err: "want a size"},
		{in: "type=registry,ref=r/a:c,image-manifest=false", err: "always an OCI image manifest"},
		{in: "type=local,src=/x", err: `unknown attribute "src"`},
		{in: "type=inline", err: "type=inline is not supported"},
	}
	for _, tc := range to {
		got, err := parseCacheTo(tc.in)
		if !matchUsage(t, "parseCacheTo", tc.in, err, tc.err) && got.CacheExport != tc.want {
			t.Errorf("parseCacheTo(%q) = %+v, want %+v", tc.in, got.CacheExport, tc.want)
		}
	}
	if c, err := parseCacheTo("type=registry,ref=r/a:c,ignore-error=true"); err != nil || !c.ignoreError {
		t.Errorf("parseCacheTo(ignore-error=true) = %+v, %v", c, err)
	}
}

// matchUsage checks err against the wanted message part ("" for none) and
// reports whether an error was expected.
func matchUsage(t *testing.T, fn, in string, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s(%q) = %v, want no error", fn, in, err)
		}
		return false
	}
	var ue usageError
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s(%q) = %v, want a usage error containing %q", fn, in, err, want)
	}
	return true
}

func TestCacheToClobbersOutput(t *testing.T) {
	// A cache exported where the image goes would replace the image.
	cache := func(s string) []cacheTo {
		c, err := parseCacheTo(s)
		if err != nil {
			t.Fatal(err)
		}
		return []cacheTo{c}
	}
	push := []output{{Type: "registry"}}
	layout := []output{{Type: "oci", Dest: "out/img", Attrs: map[string]string{"tar": "false"}}}
	for _, tc := range []struct {
		name  string
		cache []cacheTo
		outs  []output
		tags  []string
		err   string
	}{
		{"same tag", cache("reg.example/app:1"), push, []string{"reg.example/app:1"}, "would replace the image"},
		{"latest", cache("type=registry,ref=reg.example/app"), push, []string{"reg.example/app:latest"}, "would replace the image"},
		{"not pushed", cache("reg.example/app:1"), nil, []string{"reg.example/app:1"}, ""},
		{"other tag", cache("reg.example/app:cache"), push, []string{"reg.example/app:1"}, ""},
		{"same folder", cache("type=local,dest=./out/img/"), layout, nil, "would replace the image"},
		{"other folder", cache("type=local,dest=out/cache"), layout, nil, ""},
		{"bad ref", cache("type=registry,ref=Reg/App:1"), nil, nil, "--cache-to Reg/App:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			matchUsage(t, "checkCacheTo", tc.name, checkCacheTo(tc.cache, tc.outs, tc.tags), tc.err)
		})
	}
}
