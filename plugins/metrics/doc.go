// Package metrics is graft's Prometheus extension (client_golang), with
// OpenTelemetry's semantic-convention names, built on graft's public
// extension API only. It is a nested module, so that the core module does
// not depend on client_golang.
//
//	app.Register(metrics.New(metrics.Config{WebSocket: true}))
//
// Extension middleware measures every answer of its scope (the router's
// 404 and 405 too when registered on the app) after graft finished it, so
// with its final status, and a route serves the registry on /metrics.
// The series, as Prometheus names them (OpenTelemetry's dots become
// underscores, the unit a suffix):
//
//	http_server_request_duration_seconds{http_request_method, http_route, http_response_status_code}
//	    histogram, the conventions' buckets (http.server.request.duration)
//	http_server_active_requests{http_request_method}
//	    gauge (http.server.active_requests)
//
// and with Config.WebSocket, through the ws extension hooks (ws.OnOpen,
// ws.OnClose, ws.WrapMessage) and the hub's counters (ws.Hub.Stats):
//
//	websocket_server_connections_total{http_route}
//	websocket_server_active_connections{http_route}
//	websocket_server_messages_received_total{http_route}
//	websocket_server_received_bytes_total{http_route}
//	websocket_server_messages_sent_total, websocket_server_sent_bytes_total,
//	websocket_server_messages_backpressured_total, websocket_server_messages_dropped_total
//
// http_route is the route pattern ("/users/{id}"), "" when no route
// matched; methods outside the standard ones are "_OTHER", so clients
// cannot grow the number of series. A request costs no allocation once its
// series exists: the middleware is route-aware (graft.Builder.UseRoute),
// and each route caches its histogram children by method and status
// (a table per status class, made when the route first answers one).
// Durations are measured from graft.Ctx.StartTime, the clock reading the
// request's timing extensions share (plugins/logging too).
package metrics
