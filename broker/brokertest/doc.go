// Package brokertest holds the conformance tests that every bus
// implementation of [broker.Broker] in graft passes: messages cross from
// one node to another exactly once and never come back to their
// publisher, a node keeps one bus subscription per topic, subscriptions
// made before Start or while the bus is down are established later, a node
// survives the bus restarting, Close is final, malformed bus messages are
// dropped and counted, and two graft apps sharing the bus act as one
// WebSocket server.
//
// A bus module describes its bus with a [Harness] (how to make a node, how
// to look at the server's subscriptions, how to stop and restart the
// server) and calls [Run], [RunApp] and the benchmarks with a setup
// function that starts a fresh server for each case. Checks that only make
// sense for one server stay in that module, through the harness's
// callbacks.
//
// The package imports only the standard library and graft's own packages,
// so a bus module pulls no test dependency in through it.
package brokertest
