package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// dump prints an OCI tar's images as the harness sees them: config fields, history pattern
// and the final tree, one entry a line. It is for writing cases and reading differences.
func dump(w io.Writer, tarPath string) error {
	dir, err := os.MkdirTemp("", "conformance-dump-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	images, err := readOCITar(tarPath, dir)
	if err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(images)) {
		im := images[p]
		fmt.Fprintf(w, "# %s\nhistory %s\n", p, historyPattern(im))
		for _, f := range configFields {
			fmt.Fprintf(w, "config %s %s\n", f, canonicalJSON(im.Config[f]))
		}
		for _, path := range slices.Sorted(maps.Keys(im.Tree)) {
			e := im.Tree[path]
			line, _ := json.Marshal(e)
			fmt.Fprintf(w, "%s\n", line)
		}
	}
	return nil
}
