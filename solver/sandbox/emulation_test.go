package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const aarch64Handler = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`

func TestCheckEmulation(t *testing.T) {
	type setup struct {
		mounted bool
		status  string
		handler string // qemu-aarch64's file; "" for none
		// what mount and update-binfmts --enable do
		mountErr, enableErr error
		enableWrites        string
		turnOnErr           error
	}
	tests := []struct {
		name     string
		platform string
		s        setup
		want     string // "" for no error
		mounts   int
		enables  int
		turnOns  int
	}{
		{name: "native", platform: "linux/amd64", want: ""},
		{name: "386 on amd64", platform: "linux/386", want: ""},
		{name: "not linux", platform: "windows/amd64", want: "strata runs only linux programs"},
		{name: "enabled with F", platform: "linux/arm64", s: setup{mounted: true, status: "enabled", handler: aarch64Handler}},
		{name: "variant", platform: "linux/arm64/v9", s: setup{mounted: true, status: "enabled", handler: aarch64Handler}},
		{name: "no handler, enable registers it", platform: "linux/arm64",
			s: setup{mounted: true, status: "enabled", enableWrites: aarch64Handler}, enables: 1},
		{name: "not mounted, mount and enable", platform: "linux/arm64",
			s: setup{status: "enabled", enableWrites: aarch64Handler}, mounts: 1, enables: 1},
		{name: "not mounted, mount refused", platform: "linux/arm64",
			s:    setup{mountErr: errors.New("operation not permitted")},
			want: "binfmt_misc is not mounted at DIR, and mounting it failed: operation not permitted", mounts: 1},
		{name: "not installed", platform: "linux/arm64",
			s:    setup{mounted: true, status: "enabled", enableErr: errors.New("update-binfmts not found (package binfmt-support)")},
			want: "no qemu-aarch64 handler is registered in DIR, and registering it failed: update-binfmts not found", enables: 1},
		{name: "disabled handler is turned on", platform: "linux/arm64",
			s:       setup{mounted: true, status: "enabled", handler: strings.Replace(aarch64Handler, "enabled", "disabled", 1)},
			turnOns: 1},
		{name: "disabled handler stays disabled", platform: "linux/arm64",
			s:    setup{mounted: true, status: "enabled", handler: strings.Replace(aarch64Handler, "enabled", "disabled", 1), turnOnErr: errors.New("permission denied")},
			want: "the qemu-aarch64 handler is disabled, and turning it on failed: permission denied", turnOns: 1},
		{name: "no F flag", platform: "linux/arm64",
			s:    setup{mounted: true, status: "enabled", handler: strings.Replace(aarch64Handler, "flags: PF", "flags: P", 1)},
			want: "lacks the F (fix-binary) flag, so its interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P cannot be found"},
		{name: "binfmt_misc disabled is turned on", platform: "linux/arm64",
			s:       setup{mounted: true, status: "disabled", handler: aarch64Handler},
			turnOns: 1},
		{name: "everything missing", platform: "linux/arm64",
			s:      setup{status: "disabled", enableWrites: strings.Replace(aarch64Handler, "enabled", "disabled", 1)},
			mounts: 1, enables: 1, turnOns: 2},
		{name: "no emulator for the architecture", platform: "linux/wasm", want: "QEMU has no user emulator for wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mounts, enables, turnOns := 0, 0, 0
			write := func(name, content string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mount := func() {
				write("status", tt.s.status+"\n")
				write("register", "")
			}
			if tt.s.mounted {
				mount()
			}
			if tt.s.handler != "" {
				write("qemu-aarch64", tt.s.handler)
			}
			b := &binfmt{
				dir: dir,
				mount: func(string) error {
					mounts++
					if tt.s.mountErr != nil {
						return tt.s.mountErr
					}
					mount()
					return nil
				},
				enable: func(handler string) error {
					enables++
					if handler != "qemu-aarch64" {
						t.Errorf("enable(%q), want qemu-aarch64", handler)
					}
					if tt.s.enableErr != nil {
						return tt.s.enableErr
					}
					if tt.s.enableWrites != "" {
						write(handler, tt.s.enableWrites)
					}
					return nil
				},
				// The kernel's files take "1"; these are plain files.
				turnOn: func(p string) error {
					turnOns++
					if tt.s.turnOnErr != nil {
						return tt.s.turnOnErr
					}
					b, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					return os.WriteFile(p, []byte(strings.Replace(string(b), "disabled", "enabled", 1)), 0o644)
				},
			}
			err := b.check("amd64", tt.platform)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("check(%q) = %v, want nil", tt.platform, err)
				}
			} else {
				want := strings.ReplaceAll(tt.want, "DIR", dir)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("check(%q) = %v, want %q", tt.platform, err, want)
				}
			}
			if mounts != tt.mounts || enables != tt.enables || turnOns != tt.turnOns {
				t.Errorf("mounts, enables, turnOns = %d, %d, %d, want %d, %d, %d", mounts, enables, turnOns, tt.mounts, tt.enables, tt.turnOns)
			}
		})
	}
}

// TestEmulationErrorSaysWhatToDo checks the message users see when QEMU
// is missing: what to install and how to check.
func TestEmulationErrorSaysWhatToDo(t *testing.T) {
	b := &binfmt{dir: t.TempDir(), enable: func(string) error { return errors.New("update-binfmts not found (package binfmt-support)") }}
	if err := os.WriteFile(filepath.Join(b.dir, "status"), []byte("enabled\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.check("amd64", "linux/arm64")
	var ee *EmulationError
	if !errors.As(err, &ee) || !errors.Is(err, ErrNoEmulation) {
		t.Fatalf("check = %v, want an *EmulationError wrapping ErrNoEmulation", err)
	}
	for _, want := range []string{
		"RUN for linux/arm64 on this linux/",
		"needs QEMU user emulation",
		"apt-get install qemu-user-static binfmt-support",
		"cat /proc/sys/fs/binfmt_misc/qemu-aarch64",
		"update-binfmts --enable qemu-aarch64",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not say %q", err, want)
		}
	}
}

// TestCheckEmulationHost runs the real check for the host's own platform,
// which never needs an emulator.
func TestCheckEmulationHost(t *testing.T) {
	if err := CheckEmulation("linux/" + runtime.GOARCH); err != nil {
		t.Errorf("CheckEmulation(host) = %v", err)
	}
}
