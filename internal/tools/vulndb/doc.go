// Command vulndb builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file:///path (go.dev/doc/security/vuln/database)
// from a directory of OSV entries, such as data/osv of the module
// golang.org/x/vulndb fetched from the module proxy. scripts/govulncheck
// uses it when the public database (vuln.go.dev) cannot be reached.
//
//	go run ./internal/tools/vulndb -osv DIR -out DB [-modified 2026-11-05T23:49:57Z]
//
// It writes
//
//	DB/index/db.json       {"modified": the newest entry's modified time}
//	DB/index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}], sorted
//	DB/ID/GO-YYYY-NNNN.json one OSV entry each
//
// as the client in golang.org/x/vuln (internal/client) reads them: a
// module's vulns list the entry's id, modified time and newest fix that no
// later introduction supersedes (the client skips an entry whose fix is
// older than the version in use). Entries in the vulndb repository carry
// a zero modified time (the public database takes it from git history);
// -modified replaces a zero time, in the entries and the index, so that
// the database says how old it is. A file whose name is not its entry's
// id, or that is not an OSV entry, is an error naming the file.
package main
