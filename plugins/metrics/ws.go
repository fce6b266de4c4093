package metrics

import (
	"fmt"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
	"github.com/prometheus/client_golang/prometheus"
)

// extendWS adds the WebSocket hooks: connections opened and open by
// route, messages received by route, and the hub's send counters read at
// scrape time.
func (e *Ext) extendWS(b *graft.Builder) error {
	hub, err := graft.Require[*ws.Hub](b)
	if err != nil {
		return err
	}
	if err := e.reg.Register(&hubCollector{hub}); err != nil {
		return fmt.Errorf("registering the WebSocket send counters: %w", err)
	}
	if err := ws.OnOpen(b, func(s *ws.Socket) {
		r := s.Route()
		e.wsOpened.WithLabelValues(r).Inc()
		e.wsActive.WithLabelValues(r).Inc()
	}); err != nil {
		return err
	}
	if err := ws.OnClose(b, func(s *ws.Socket, _ ws.StatusCode, _ string) {
		e.wsActive.WithLabelValues(s.Route()).Dec()
	}); err != nil {
		return err
	}
	return ws.WrapMessage(b, func(pattern string, next ws.MessageHandler) ws.MessageHandler {
		n, size := e.wsReceived.WithLabelValues(pattern), e.wsReceivedBytes.WithLabelValues(pattern)
		return func(s *ws.Socket, data []byte, op ws.OpCode) {
			n.Inc()
			size.Add(float64(len(data)))
			next(s, data, op)
		}
	})
}

// hubCollector exposes ws.Hub.Stats: what the app's connections were given
// to send, counted by the hub.
type hubCollector struct{ hub *ws.Hub }

var (
	sentDesc   = prometheus.NewDesc("websocket_server_messages_sent_total", "WebSocket messages accepted for sending (ws.Stats.SentMessages).", nil, nil)
	sentBytes  = prometheus.NewDesc("websocket_server_sent_bytes_total", "Frame bytes of the WebSocket messages accepted for sending (ws.Stats.SentBytes).", nil, nil)
	bpDesc     = prometheus.NewDesc("websocket_server_messages_backpressured_total", "WebSocket messages that waited in a connection's buffer (ws.Stats.BackpressuredMessages).", nil, nil)
	droppedMsg = prometheus.NewDesc("websocket_server_messages_dropped_total", "WebSocket messages dropped over MaxBackpressure (ws.Stats.DroppedMessages).", nil, nil)
)

// Describe sends the four descriptors.
func (h *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sentDesc
	ch <- sentBytes
	ch <- bpDesc
	ch <- droppedMsg
}

// Collect reads the hub's counters once per scrape.
func (h *hubCollector) Collect(ch chan<- prometheus.Metric) {
	st := h.hub.Stats()
	ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(st.SentMessages))
	ch <- prometheus.MustNewConstMetric(sentBytes, prometheus.CounterValue, float64(st.SentBytes))
	ch <- prometheus.MustNewConstMetric(bpDesc, prometheus.CounterValue, float64(st.BackpressuredMessages))
	ch <- prometheus.MustNewConstMetric(droppedMsg, prometheus.CounterValue, float64(st.DroppedMessages))
}
