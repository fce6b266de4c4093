package openapi

import (
	"embed"
	"net/http"
	"path"
	"sync"

	"github.com/graftgo/graft"
)

// docsVersion is the version of the vendored swagger-ui-dist.
const docsVersion = "5.35.0"

// docsFiles are Swagger UI's files and their licences (docsui/README.md).
//
//go:embed docsui/swagger-ui-bundle.js docsui/swagger-ui.css docsui/init.js docsui/LICENSE docsui/NOTICE docsui/swagger-ui-bundle.js.LICENSE.txt
var docsFiles embed.FS

var (
	assetsOnce sync.Once
	assets     map[string]*served
)

// loadAssets reads the embedded files once, with their header values.
func loadAssets() map[string]*served {
	assetsOnce.Do(func() {
		assets = map[string]*served{}
		types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8", "": "text/plain; charset=utf-8"}
		ents, _ := docsFiles.ReadDir("docsui")
		for _, e := range ents {
			b, _ := docsFiles.ReadFile("docsui/" + e.Name())
			s := newServed(b, types[path.Ext(e.Name())])
			assets[e.Name()] = &s
		}
	})
	return assets
}

// serveAsset answers /docs/{file} from the embedded files.
func serveAsset(c *graft.Ctx) error {
	s, ok := loadAssets()[c.Param("file")]
	if !ok {
		return graft.NewError(http.StatusNotFound, "no such file of the docs page")
	}
	c.Response().Header()["Cache-Control"] = cacheAssets
	return s.write(c)
}

var cacheAssets = []string{"public, max-age=86400"}
