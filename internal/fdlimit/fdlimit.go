//go:build unix

package fdlimit

import "syscall"

// Raise raises the soft limit on open files (RLIMIT_NOFILE) to n where it
// is lower: up to the hard limit, or past it where the process may (as
// root). It returns the soft limit in force afterwards, which child
// processes inherit.
func Raise(n uint64) uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	if rl.Cur >= n {
		return rl.Cur
	}
	if rl.Max < n {
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}) == nil {
			return n
		}
	}
	rl.Cur = min(n, rl.Max)
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

// RaiseToHard raises the soft limit on open files to the hard one and
// returns it, or 0 when it cannot read the limit.
func RaiseToHard() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return Raise(rl.Max)
}
