package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
)

//go:embed static
var staticFiles embed.FS

// assets are the embedded static files, served under a hash of their content so
// that they can be cached forever.
type assets struct {
	files map[string][]byte // name → content
	hash  map[string]string // name → short content hash
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string][]byte{}, hash: map[string]string{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		sum := sha256.Sum256(b)
		a.files[name] = b
		a.hash[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a, err
}

// url returns the URL of a static file.
func (a *assets) url(name string) string {
	return "/static/" + a.hash[name] + "/" + name
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, ok := a.files[name]
	if !ok || a.hash[name] != r.PathValue("hash") {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}
