// Command webpp is webpp's extension model written with graft, an
// extension on each extensie: a router-level SQLite extension configured at
// start-up with the database file from --db (router), the DB and cookie
// mixins (context), a cookies extension on the response headers, typed ETag
// and If-None-Match header fields, and, with --compress, a gzip writer
// around the response body (a child extension).
//
// From the repository root, on a new database:
//
//	go run ./examples/webpp --db webpp.db --port 8080
//	curl localhost:8080/home                                   # Home Page
//	curl -c jar -b jar localhost:8080/visits                   # visits: 1, then 2, 3, …
//	curl -i -c jar -b jar -X DELETE localhost:8080/visits      # 204, Set-Cookie: visits=; Path=/; Max-Age=0
//	curl -H 'Content-Type: application/json' -d '{"text":"hello"}' localhost:8080/notes  # 201 {"id":1,"text":"hello"}
//	curl -i localhost:8080/notes                               # 200, Etag: "notes-1-1", [{"id":1,"text":"hello"}]
//	curl -i -H 'If-None-Match: "notes-1-1"' localhost:8080/notes  # 304 Not Modified, no body
//
// (curl -d alone sends a form Content-Type, which POST /notes answers with
// 415: it reads JSON.) With --compress, answers are gzipped for clients
// that send Accept-Encoding: gzip, error answers included, and left alone
// for the others:
//
//	go run ./examples/webpp --db webpp.db --port 8080 --compress
//	curl -i --compressed localhost:8080/notes                  # Content-Encoding: gzip, Vary: Accept-Encoding
//	curl --compressed localhost:8080/nothing                   # the 404 problem+json, decompressed by curl
//	curl -i localhost:8080/notes                               # no Accept-Encoding: not compressed
package main

import (
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
)

// Ctx is the app's context: webpp's final context type, assembled from the
// extensions' mixins.
type Ctx struct {
	graft.Ctx
	cookies.Jar // CookieValue, PutCookie
	DBAccess    // DB
}

// Note is one stored note.
type Note struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
}

const schema = `CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)`

// newApp builds the app; the SQLite file comes from --db (default webpp.db)
// and --compress turns on gzip.
func newApp(cfg graft.Config) *graft.App[Ctx] {
	app := graft.NewWithContext[Ctx](cfg)
	// Both extensions are config sections (graft.ConfigSectioner): their
	// settings come from the file, the environment and the flags --db and
	// --compress, over the values set here.
	db := &SQLite{Schema: schema, File: "webpp.db"}
	gz := &Compress{}
	// The compressor is registered first, so its writer is the outermost
	// and every answer of the app, 404s included, goes through it.
	app.Register(gz, cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode}), db, ETag, IfNoneMatch)

	app.GET("/home", func(c *Ctx) error { return c.Text(http.StatusOK, "Home Page") })
	app.GET("/visits", func(c *Ctx) error {
		n, _ := strconv.Atoi(c.CookieValue("visits"))
		n++
		c.PutCookie("visits", strconv.Itoa(n))
		return c.Text(http.StatusOK, "visits: "+strconv.Itoa(n))
	})
	app.DELETE("/visits", func(c *Ctx) error {
		c.DropCookie("visits") // Set-Cookie with Max-Age=0, written by the cookies extension's hook
		return c.NoContent()
	})
	app.POST("/notes", func(c *Ctx) error {
		var in struct {
			Text string `json:"text"`
		}
		if err := c.BindJSON(&in); err != nil {
			return err
		}
		in.Text = strings.TrimSpace(in.Text)
		if in.Text == "" {
			return &graft.HTTPError{Status: http.StatusUnprocessableEntity, Detail: "the note is empty", Errors: []graft.FieldError{{Location: "body.text", Message: "must not be empty"}}}
		}
		res, err := c.DB().ExecContext(c.Context(), `INSERT INTO notes (text) VALUES (?)`, in.Text)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, Note{ID: id, Text: in.Text})
	})
	app.GET("/notes", func(c *Ctx) error {
		// Notes are only ever added, so their count and highest id name
		// the list's version: a client that has it gets a 304 before any
		// note is read.
		var count, last int64
		if err := c.DB().QueryRowContext(c.Context(), `SELECT count(*), coalesce(max(id), 0) FROM notes`).Scan(&count, &last); err != nil {
			return err
		}
		tag := notesTag(count, last)
		ETag.Set(c, tag)
		cached, ok, err := IfNoneMatch.Get(c)
		if err != nil {
			return err // a malformed If-None-Match: 400 naming the header
		}
		if ok && cached.Matches(tag) {
			c.Status(http.StatusNotModified)
			return nil
		}
		rows, err := c.DB().QueryContext(c.Context(), `SELECT id, text FROM notes ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		notes := []Note{}
		for rows.Next() {
			var n Note
			if err := rows.Scan(&n.ID, &n.Text); err != nil {
				return err
			}
			notes = append(notes, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(notes) > 0 {
			// A note added between the two queries is in the list: the
			// tag names what is sent.
			ETag.Set(c, notesTag(int64(len(notes)), notes[len(notes)-1].ID))
		}
		return c.JSON(http.StatusOK, notes)
	})
	return app
}

// notesTag is the entity tag of a list of count notes whose highest id is
// last.
func notesTag(count, last int64) EntityTag {
	return EntityTag{Opaque: "notes-" + strconv.FormatInt(count, 10) + "-" + strconv.FormatInt(last, 10)}
}

func main() {
	if err := newApp(graft.Config{}).Run(); err != nil {
		log.Fatal(err)
	}
}
