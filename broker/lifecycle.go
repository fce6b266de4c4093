package broker

// Lifecycle is the started/closed state of a bus broker, shared by the
// NATS and Redis brokers so that their Start and Close follow the same
// rules: Start may be called once (again after a failed Start), Close is
// idempotent, and nothing starts after Close.
//
// Lifecycle holds no lock: the broker guards it with its own mutex, the
// one that also guards the connection Start sets up, so that "closed"
// and the connection are read together. The zero value is a new broker.
type Lifecycle struct {
	started, closed bool
}

// Start marks the broker started. It returns ErrClosed after Close and
// ErrStarted while a Start is under way or has succeeded.
func (l *Lifecycle) Start() error {
	switch {
	case l.closed:
		return ErrClosed
	case l.started:
		return ErrStarted
	}
	l.started = true
	return nil
}

// StartFailed undoes Start after a failed connection, so that Start may be
// called again.
func (l *Lifecycle) StartFailed() { l.started = false }

// Close marks the broker closed. It reports false if it already was, in
// which case Close has nothing left to do.
func (l *Lifecycle) Close() bool {
	if l.closed {
		return false
	}
	l.closed = true
	return true
}

// Closed reports whether Close has been called.
func (l *Lifecycle) Closed() bool { return l.closed }
