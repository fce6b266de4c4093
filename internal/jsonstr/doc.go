// Package jsonstr writes Go strings as JSON strings, byte for byte as
// encoding/json does, for the hand-written encoders of the core (problem
// details, typed answers), the WebSocket protocol and the OpenAPI document.
package jsonstr
