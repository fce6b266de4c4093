// Command webpp is seed 002 (webpp's extension packs) written with graft: a
// cookies extension on the response headers, and a router-level SQLite
// extension configured at start-up with the database file from --db.
//
//	go run ./examples/webpp --db webpp.db --port 8080
//	curl localhost:8080/home                                  # Home Page
//	curl -c jar -b jar localhost:8080/visits                  # visits: 1, 2, …
//	curl -d '{"text":"hello"}' localhost:8080/notes           # 201
//	curl localhost:8080/notes                                 # [{"id":1,"text":"hello"}]
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

// newApp builds the app; the SQLite file comes from --db (default webpp.db).
func newApp(cfg graft.Config) *graft.App[Ctx] {
	app := graft.New[Ctx](cfg)
	db := &SQLite{Schema: schema}
	app.Flags().StringVar(&db.File, "db", "webpp.db", "SQLite database file for the notes")
	app.Register(cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode}), db)

	app.GET("/home", func(c *Ctx) error { return c.Text(http.StatusOK, "Home Page") })
	app.GET("/visits", func(c *Ctx) error {
		n, _ := strconv.Atoi(c.CookieValue("visits"))
		n++
		c.PutCookie("visits", strconv.Itoa(n))
		return c.Text(http.StatusOK, "visits: "+strconv.Itoa(n))
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
		return c.JSON(http.StatusOK, notes)
	})
	return app
}

func main() {
	if err := newApp(graft.Config{}).Run(); err != nil {
		log.Fatal(err)
	}
}
