// Package kintest validates graft's OpenAPI documents with kin-openapi: a
// module of its own, so that the core module does not depend on it. It
// holds tests only.
package kintest
