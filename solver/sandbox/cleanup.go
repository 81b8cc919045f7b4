package sandbox

import (
	"os"
	"strings"
)

// Cleanup kills and deletes every container in the runtime state
// directory root. A build calls it when it knows no other build uses root,
// to clear what a killed build left running.
func Cleanup(runtime, root string) error {
	// runc keeps one directory per container in root: when there is
	// none, nothing is left to clear, and the runtime (about 40 ms to
	// start) is not asked.
	if entries, err := os.ReadDir(root); err != nil || len(entries) == 0 {
		return nil
	}
	bin, err := lookRuntime(runtime)
	if err != nil {
		return nil // nothing can have been started without it
	}
	r := runc{binary: bin, root: root}
	out, err := r.command("list", "-q").Output()
	if err != nil {
		return err
	}
	for _, id := range strings.Fields(string(out)) {
		_ = r.command("kill", id, "KILL").Run()
		r.delete(id)
	}
	return nil
}
