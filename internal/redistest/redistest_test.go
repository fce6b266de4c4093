package redistest

import (
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartKillRestart(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed (.ci/run installs it)")
	}
	s := Start(t)
	if !Ping(s.Addr()) || s.URL() != "redis://"+s.Addr() {
		t.Fatalf("server at %s does not answer", s.Addr())
	}
	s.Kill()
	s.Kill() // twice is fine
	if Ping(s.Addr()) {
		t.Fatal("the killed server still answers")
	}
	again := StartOn(t, s.Port, "--appendonly", "yes", "--dir", t.TempDir())
	if again.Port != s.Port || !Ping(again.Addr()) {
		t.Fatalf("restart on port %d failed", s.Port)
	}
}
