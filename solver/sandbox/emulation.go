package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrNoEmulation is wrapped by CheckEmulation's error when the machine
// cannot run programs built for the platform.
var ErrNoEmulation = errors.New("no emulation for the platform")

// BinfmtDir is where the kernel's binfmt_misc file system is mounted.
const BinfmtDir = "/proc/sys/fs/binfmt_misc"

// EmulationError says why RUN cannot execute programs of a foreign
// architecture, and what to install and check. It wraps ErrNoEmulation.
type EmulationError struct {
	Platform string // the platform of the RUN step, "linux/arm64"
	Handler  string // the binfmt_misc handler that would run it, "qemu-aarch64"; "" if there is none
	Reason   string // what is missing
}

func (e *EmulationError) Error() string {
	msg := fmt.Sprintf("RUN for %s on this linux/%s machine needs QEMU user emulation: %s", e.Platform, runtime.GOARCH, e.Reason)
	if e.Handler == "" {
		return msg
	}
	return msg + fmt.Sprintf("; install it with `apt-get install qemu-user-static binfmt-support`, "+
		"then check that `cat %s/%s` says \"enabled\" and has the F flag (if %s is empty, run "+
		"`mount -t binfmt_misc binfmt_misc %s` and `update-binfmts --enable %s`)",
		BinfmtDir, e.Handler, BinfmtDir, BinfmtDir, e.Handler)
}

func (e *EmulationError) Unwrap() error { return ErrNoEmulation }

// CheckEmulation reports whether RUN can execute programs of the platform
// "os/arch[/variant]" (normalized, as frontend.NormalizePlatform spells
// it). Programs of the host's architecture (and 386 on amd64) run natively.
// Others need a QEMU user emulator registered in binfmt_misc with the F
// (fix-binary) flag, as Debian's qemu-user-static does: the kernel then
// opens the emulator when it is registered, so it works inside the RUN
// container, whose root file system does not have it.
//
// When the handler is not usable, CheckEmulation tries to make it so, as
// root can: it mounts binfmt_misc at BinfmtDir if nothing is mounted there,
// registers a missing handler with `update-binfmts --enable HANDLER`
// (package binfmt-support) and turns on a disabled one (echo 1 > its file;
// update-binfmts leaves a registered handler as it is). If that does not
// help either, the error is an *EmulationError saying what to install and
// how to check.
func CheckEmulation(platform string) error {
	emulationMu.Lock()
	defer emulationMu.Unlock()
	return hostBinfmt.check(runtime.GOARCH, platform)
}

var emulationMu sync.Mutex // one attempt at a time to set up binfmt_misc

var hostBinfmt = &binfmt{dir: BinfmtDir, mount: mountBinfmt, enable: enableHandler, turnOn: writeOne}

// binfmt is a binfmt_misc directory and the ways to set it up.
type binfmt struct {
	dir    string
	mount  func(dir string) error     // mount binfmt_misc at dir
	enable func(handler string) error // register a handler (update-binfmts --enable)
	turnOn func(path string) error    // write 1 to the status file or a handler's file
}

// qemuArch names QEMU's user emulator (qemu-NAME) for each GOARCH.
var qemuArch = map[string]string{
	"amd64":    "x86_64",
	"386":      "i386",
	"arm64":    "aarch64",
	"arm":      "arm",
	"ppc64le":  "ppc64le",
	"ppc64":    "ppc64",
	"s390x":    "s390x",
	"riscv64":  "riscv64",
	"mips64le": "mips64el",
	"mips64":   "mips64",
	"mipsle":   "mipsel",
	"mips":     "mips",
	"loong64":  "loongarch64",
}

// native reports whether programs for arch run on a host of hostArch
// without an emulator.
func native(hostArch, arch string) bool {
	return arch == hostArch || hostArch == "amd64" && arch == "386"
}

func (b *binfmt) check(hostArch, platform string) error {
	goos, arch, _ := strings.Cut(platform, "/")
	arch, _, _ = strings.Cut(arch, "/")
	if goos != "linux" {
		return fmt.Errorf("RUN for %s: strata runs only linux programs", platform)
	}
	if native(hostArch, arch) {
		return nil
	}
	name, ok := qemuArch[arch]
	if !ok {
		return &EmulationError{Platform: platform, Reason: "QEMU has no user emulator for " + arch}
	}
	handler := "qemu-" + name
	// Fix what is missing, each thing once, looking again after each.
	tried := map[error]bool{}
	for {
		err := b.usable(handler)
		if err == nil {
			return nil
		}
		var fix func() error
		var doing string
		switch {
		case errors.Is(err, errNotMounted) && b.mount != nil:
			fix, doing = func() error { return b.mount(b.dir) }, "mounting it"
		case errors.Is(err, errStatusOff) && b.turnOn != nil:
			fix, doing = func() error { return b.turnOn(filepath.Join(b.dir, "status")) }, "turning it on"
		case errors.Is(err, errNoHandler) && b.enable != nil:
			fix, doing = func() error { return b.enable(handler) }, "registering it"
		case errors.Is(err, errHandlerOff) && b.turnOn != nil:
			fix, doing = func() error { return b.turnOn(filepath.Join(b.dir, handler)) }, "turning it on"
		}
		kind := errors.Unwrap(err)
		if fix == nil || tried[kind] {
			return &EmulationError{Platform: platform, Handler: handler, Reason: err.Error()}
		}
		tried[kind] = true
		if ferr := fix(); ferr != nil {
			return &EmulationError{Platform: platform, Handler: handler, Reason: fmt.Sprintf("%v, and %s failed: %v", err, doing, ferr)}
		}
	}
}

// What usable finds missing; each can be fixed in its own way.
var (
	errNotMounted = errors.New("binfmt_misc is not mounted")
	errStatusOff  = errors.New("binfmt_misc is disabled")
	errNoHandler  = errors.New("no handler")
	errHandlerOff = errors.New("the handler is disabled")
	errNoFix      = errors.New("the handler is not fix-binary")
)

// usableError is what usable finds missing: a message for users, and
// which of the errors above it is.
type usableError struct {
	msg  string
	kind error
}

func (e *usableError) Error() string { return e.msg }
func (e *usableError) Unwrap() error { return e.kind }

// usable reports whether handler is registered, enabled and fix-binary.
func (b *binfmt) usable(handler string) error {
	status, err := os.ReadFile(filepath.Join(b.dir, "status"))
	if err != nil {
		return &usableError{fmt.Sprintf("binfmt_misc is not mounted at %s", b.dir), errNotMounted}
	}
	if strings.TrimSpace(string(status)) != "enabled" {
		return &usableError{fmt.Sprintf("binfmt_misc is disabled (%s/status)", b.dir), errStatusOff}
	}
	f, err := os.Open(filepath.Join(b.dir, handler))
	if err != nil {
		return &usableError{fmt.Sprintf("no %s handler is registered in %s", handler, b.dir), errNoHandler}
	}
	defer f.Close()
	enabled, flags, interp := false, "", ""
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		switch {
		case first:
			enabled = line == "enabled"
		case strings.HasPrefix(line, "flags:"):
			flags = strings.TrimSpace(strings.TrimPrefix(line, "flags:"))
		case strings.HasPrefix(line, "interpreter "):
			interp = strings.TrimPrefix(line, "interpreter ")
		}
	}
	if err := sc.Err(); err != nil {
		return &usableError{fmt.Sprintf("reading %s/%s: %v", b.dir, handler, err), errNoHandler}
	}
	if !enabled {
		return &usableError{fmt.Sprintf("the %s handler is disabled", handler), errHandlerOff}
	}
	if !strings.Contains(flags, "F") {
		// A registration problem that strata does not change.
		return &usableError{fmt.Sprintf("the %s handler lacks the F (fix-binary) flag, so its interpreter %s cannot be found inside the RUN container; register it with F, as Debian's qemu-user-static does", handler, interp), errNoFix}
	}
	return nil
}

// writeOne turns on binfmt_misc (its status file) or one handler.
func writeOne(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("1"); err != nil {
		f.Close()
		return fmt.Errorf("echo 1 > %s: %w", p, err)
	}
	return f.Close()
}

func mountBinfmt(dir string) error {
	if err := unix.Mount("binfmt_misc", dir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount -t binfmt_misc binfmt_misc %s: %w", dir, err)
	}
	return nil
}

func enableHandler(handler string) error {
	bin, err := exec.LookPath("update-binfmts")
	if err != nil {
		return errors.New("update-binfmts not found (package binfmt-support)")
	}
	out, err := exec.Command(bin, "--enable", handler).CombinedOutput()
	if err != nil {
		return fmt.Errorf("update-binfmts --enable %s: %v: %s", handler, err, strings.TrimSpace(string(out)))
	}
	return nil
}
