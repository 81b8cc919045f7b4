package lint

import "testing"

// TestReparseCheckComment: text with a `# check=` comment above the
// instruction made BuildKit's instruction parser panic when it was given
// no linter (found by frontend's FuzzDockerfile in the same parser).
func TestReparseCheckComment(t *testing.T) {
	cmd, ok := reparse(&Document{Escape: '\\'}, "# a comment first, so the next line is no directive\n# check=skip=all\nRUN echo hi\n")
	if !ok || cmd == nil {
		t.Fatalf("reparse = %v, %v; want the RUN instruction", cmd, ok)
	}
}
