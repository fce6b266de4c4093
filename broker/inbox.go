package broker

import (
	"sync/atomic"
)

// Inbox is the receive path shared by bus brokers: it decodes envelopes,
// drops malformed ones and the node's own echoed messages, counts all of it,
// and passes the rest to the node's deliver function. The zero value is not
// usable; make one with NewInbox.
type Inbox struct {
	self    NodeID
	deliver atomic.Pointer[DeliverFunc]

	published, delivered, echoed, malformed, dropped atomic.Uint64
}

// NewInbox returns an Inbox for the node self. Until SetDeliver is called,
// received messages are dropped and counted as Dropped.
func NewInbox(self NodeID) *Inbox {
	return &Inbox{self: self}
}

// Self returns the node id the Inbox filters out.
func (in *Inbox) Self() NodeID { return in.self }

// SetDeliver sets the function messages are passed to; brokers call it in
// Start. A nil deliver makes the Inbox drop (and count) messages again.
func (in *Inbox) SetDeliver(deliver DeliverFunc) {
	if deliver == nil {
		in.deliver.Store(nil)
		return
	}
	in.deliver.Store(&deliver)
}

// Receive handles one bus message holding an envelope. It never panics on
// bad input. The payload handed to deliver aliases data, so a bus that
// reuses its buffers must pass a copy.
func (in *Inbox) Receive(data []byte) {
	origin, m, err := DecodeEnvelope(data)
	if err != nil {
		in.malformed.Add(1)
		return
	}
	in.Deliver(origin, m)
}

// Deliver handles one decoded message from origin: it drops the node's own
// messages and passes the others to deliver, counting both.
func (in *Inbox) Deliver(origin NodeID, m Message) {
	if origin == in.self {
		in.echoed.Add(1)
		return
	}
	d := in.deliver.Load()
	if d == nil {
		in.dropped.Add(1)
		return
	}
	in.delivered.Add(1)
	(*d)(m)
}

// CountPublished records one message handed to the bus, for Stats.
func (in *Inbox) CountPublished() { in.published.Add(1) }

// CountDropped records one message lost for a reason the broker saw.
func (in *Inbox) CountDropped() { in.dropped.Add(1) }

// Stats returns the counters.
func (in *Inbox) Stats() Stats {
	return Stats{
		Published: in.published.Load(),
		Delivered: in.delivered.Load(),
		Echoed:    in.echoed.Load(),
		Malformed: in.malformed.Load(),
		Dropped:   in.dropped.Load(),
	}
}
