package buildcontext

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mageship/mageship/engine/internal/testfix"
)

func TestAuditFiles(t *testing.T) {
	dir := t.TempDir()
	testfix.WriteTree(t, dir, map[string]string{
		"etc/tsdb.yml":       "storage: /tsdb\n",
		"etc/certs/tls.key":  "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
		"web/index.html":     "<p>hi</p>\n",
		"deploy/.env.prod":   "TOKEN=x\n",
		"deploy/compose.yml": "x\n",
	})
	if err := AuditFiles(dir, []string{"etc/tsdb.yml", "web"}); err != nil {
		t.Errorf("clean files: %v", err)
	}
	testfix.OneLine(t, AuditFiles(dir, []string{"web", "etc"}), "Image.Files etc would put etc/certs/tls.key in the image", "looks like a secret")
	testfix.OneLine(t, AuditFiles(dir, []string{"deploy/.env.prod"}), "deploy/.env.prod", "looks like a secret")

	// A From that is a symlink is audited as what it points at: a harmless name on a
	// key, and a directory link to a folder that holds one.
	for link, target := range map[string]string{"etc/server.pem": "certs/tls.key", "conf": "etc"} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	testfix.OneLine(t, AuditFiles(dir, []string{"etc/server.pem"}), "Image.Files etc/server.pem would put etc/server.pem in the image", "looks like a secret")
	testfix.OneLine(t, AuditFiles(dir, []string{"conf"}), "Image.Files conf would put conf/certs/tls.key in the image", "looks like a secret")
}

func TestCheckFiles(t *testing.T) {
	ignore := []string{"**/*.yml", "!etc/keep.yml", "web/"}
	if err := CheckFiles(ignore, "/m/.dockerignore", []string{"etc/keep.yml", "README.md"}); err != nil {
		t.Errorf("files sent: %v", err)
	}
	testfix.OneLine(t, CheckFiles(ignore, "/m/.dockerignore", []string{"etc/tsdb.yml"}), `.dockerignore excludes etc/tsdb.yml (pattern "**/*.yml")`, "!etc/tsdb.yml")
	testfix.OneLine(t, CheckFiles(ignore, DefaultSource, []string{"web/index.html"}), `mageship's default .dockerignore excludes web/index.html (pattern "web/")`)
}
