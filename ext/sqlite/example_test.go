package sqlite_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sqlite"
)

// NotesCtx is an app context with the database mixin.
type NotesCtx struct {
	graft.Ctx
	sqlite.Access
}

func Example() {
	dir, _ := os.MkdirTemp("", "sqlite-example")
	defer os.RemoveAll(dir)

	// In an app: //go:embed migrations/*.sql and fs.Sub.
	files := fstest.MapFS{
		"001_notes.sql": {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);")},
		"002_hello.sql": {Data: []byte("INSERT INTO notes (text) VALUES ('hello from a migration');")},
	}
	app := graft.NewWithContext[NotesCtx](graft.Config{})
	app.Register(sqlite.Extension(sqlite.Options{
		Config:     sqlite.Config{File: filepath.Join(dir, "notes.db")},
		Migrations: files,
	}))
	app.GET("/notes/{id}", func(c *NotesCtx) error {
		var text string
		err := c.DB().QueryRowContext(c.Context(), "SELECT text FROM notes WHERE id = ?", c.Param("id")).Scan(&text)
		if err != nil {
			return graft.NewError(404, "no such note")
		}
		return c.Text(200, text)
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/notes/1", nil))
	fmt.Println(rec.Code, rec.Body)
	// Output: 200 hello from a migration
}
