// Package asyncapitest validates graft's AsyncAPI documents against the
// official AsyncAPI 3.0.0 JSON schema (testdata/asyncapi-3.0.0.json, from
// the npm package @asyncapi/specs 6.11.1, Apache-2.0: testdata/LICENSE and
// NOTICE) with github.com/santhosh-tekuri/jsonschema/v6: a module of its
// own, so that the core module does not depend on the validator (nor on
// go.yaml.in/yaml/v4, which reads the YAML rendering back). It holds tests
// only.
package asyncapitest
