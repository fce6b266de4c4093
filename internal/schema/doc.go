// Package schema is graft's one walk over Go types: for each struct type,
// compiled once, the fields as encoding/json sees them on the wire (names
// from json tags, embedded structs flattened by Go's and encoding/json's
// dominance rules, ",string", omitempty) with their validation
// constraints (required, min, max, minLength, maxLength, pattern, enum,
// format) and their documentation tags (doc, example, deprecated).
//
// Everything that reads a body type reads it through [StructOf]: the
// validator's compiled checks and presence plans, the 422 walk that lists
// every mistyped field, and the OpenAPI and AsyncAPI schema generators. So
// a field the validator checks is the field the document shows, under the
// same name, with the same constraints; a field that encoding/json never
// decodes into (one hidden by a shallower field, or two that annihilate at
// one depth) is neither validated nor documented.
//
// The package holds descriptions, not plans: the hot path keeps its own
// compiled plans (offsets, closures), built once at start-up from these.
package schema
