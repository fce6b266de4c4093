//go:build unix

package fdlimit

import (
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRaise(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	// A limit already met is left as it is and reported.
	if got := Raise(1); got != rl.Cur {
		t.Fatalf("Raise(1) = %d, want the soft limit %d unchanged", got, rl.Cur)
	}
	// Lower the soft limit, then raise it back: Raise reports what is in
	// force, and it is what the kernel says.
	if rl.Cur < 64 {
		t.Skipf("soft limit %d is too low to lower", rl.Cur)
	}
	low := syscall.Rlimit{Cur: 64, Max: rl.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) })
	got := Raise(rl.Cur)
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if got != now.Cur || got != rl.Cur {
		t.Fatalf("Raise(%d) = %d, soft limit now %d; want both %d", rl.Cur, got, now.Cur, rl.Cur)
	}
}

func TestForConns(t *testing.T) {
	if got := ForConns(1000); got != 2200 {
		t.Fatalf("ForConns(1000) = %d, want 2200 (both ends of each and a margin of 200)", got)
	}
}

func TestRaiseToHard(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < 64 {
		t.Skipf("soft limit %d is too low to lower", rl.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: rl.Max}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) })
	if got := RaiseToHard(); got != rl.Max {
		t.Fatalf("RaiseToHard() = %d, want the hard limit %d", got, rl.Max)
	}
}
