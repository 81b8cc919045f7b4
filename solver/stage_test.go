package solver

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

func TestParsePort(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"80", "80/tcp", false},
		{"53/UDP", "53/udp", false},
		{"8000-8002/tcp", "8000/tcp 8001/tcp 8002/tcp", false},
		{"127.0.0.1:80:8080", "8080/tcp", false},
		{"80/icmp", "", true},
		{"http", "", true},
		{"90-80", "", true},
	}
	for _, tt := range tests {
		got, err := parsePort(tt.in)
		if (err != nil) != tt.err || strings.Join(got, " ") != tt.want {
			t.Errorf("parsePort(%q) = %v, %v, want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseChmod(t *testing.T) {
	if m, s, err := parseChmod("0755"); err != nil || m == nil || *m != 0o755 || s != "" {
		t.Errorf("parseChmod(0755) = %v, %q, %v", m, s, err)
	}
	if m, s, err := parseChmod("u+x,g-w"); err != nil || m != nil || s != "u+x,g-w" {
		t.Errorf("parseChmod(u+x,g-w) = %v, %q, %v", m, s, err)
	}
	for _, bad := range []string{"17777", "999"} {
		if _, _, err := parseChmod(bad); err == nil {
			t.Errorf("parseChmod(%q) accepted", bad)
		}
	}
}

func TestCheckSignal(t *testing.T) {
	for _, ok := range []string{"SIGTERM", "term", "9", "SIGRTMIN+3", "$SIG"} {
		if err := checkSignal(ok); err != nil {
			t.Errorf("checkSignal(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"SIGNOPE", "0", "65"} {
		if err := checkSignal(bad); err == nil {
			t.Errorf("checkSignal(%q) accepted", bad)
		}
	}
}

func TestRunHistory(t *testing.T) {
	v := "1"
	args := []instructions.KeyValuePairOptional{{Key: "A", Value: &v}, {Key: "B"}, {Key: "A"}}
	got := runHistory([]string{"/bin/sh", "-c", "make"}, args, []string{"A=2", "B=x"})
	if want := "|2 A=2 B=x /bin/sh -c make"; got != want {
		t.Errorf("runHistory = %q, want %q", got, want)
	}
	if got := runHistory([]string{"make"}, nil, nil); got != "make" {
		t.Errorf("runHistory without args = %q", got)
	}
}

func TestFillHistoryTimes(t *testing.T) {
	t1 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	h := []v1.History{
		{CreatedBy: "ENV", EmptyLayer: true},
		{CreatedBy: "RUN", Created: v1.Time{Time: t1}},
		{CreatedBy: "LABEL", EmptyLayer: true},
		{CreatedBy: "COPY", Created: v1.Time{Time: t2}},
		{CreatedBy: "CMD", EmptyLayer: true},
	}
	created := fillHistoryTimes(h)
	want := []time.Time{t1, t1, t1, t2, t2}
	for i, e := range h {
		if !e.Created.Equal(want[i]) {
			t.Errorf("history[%d] (%s) created %v, want %v", i, e.CreatedBy, e.Created.Time, want[i])
		}
	}
	if !created.Equal(t2) {
		t.Errorf("image created = %v, want %v", created, t2)
	}
}

func TestWorkdirPath(t *testing.T) {
	r := &stageRun{st: &stageState{cfg: &v1.ConfigFile{}}}
	r.st.cfg.Config.WorkingDir = "/app"
	for in, want := range map[string]string{
		"x":     "/app/x",
		"x/":    "/app/x/",
		".":     "/app/",
		"":      "/app/",
		"/abs":  "/abs",
		"../up": "/up",
		"sub/.": "/app/sub/",
	} {
		if got := r.workdirPath(in); got != want {
			t.Errorf("workdirPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRunErrorText(t *testing.T) {
	e := &RunError{Code: 2, Stdout: []string{"out"}, Stderr: []string{"err"}}
	want := "process did not complete successfully: exit code: 2\nlast lines of stdout:\n  out\nlast lines of stderr:\n  err"
	if e.Error() != want {
		t.Errorf("RunError = %q, want %q", e.Error(), want)
	}
}
