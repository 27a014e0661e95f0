package project

import (
	"bufio"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Source is where the module's code lives, for the org.opencontainers.image.source
// label: the origin remote of the git repository holding the module, normalized to
// https (credentials, ".git" and ports dropped); else, for a module path on a known
// forge, its host/owner/repo (a /vN suffix and any subdirectory removed); else "". It
// is never a URL made of a module path alone (a vanity host's path names no page).
// It reads .git's files, runs no git.
func (p Project) Source() string {
	if u := normalizeRemote(originURL(p.Dir)); u != "" {
		return u
	}
	return forgeURL(p.Module)
}

// forges are the hosts whose module paths are host/owner/repo[/subdir][/vN].
var forges = []string{"github.com", "bitbucket.org", "codeberg.org"}

// forgeURL is the repository of a module path on a known forge, or "".
func forgeURL(module string) string {
	elems := strings.Split(module, "/")
	for _, f := range forges {
		if len(elems) >= 3 && elems[0] == f && elems[1] != "" && elems[2] != "" {
			return "https://" + strings.Join(elems[:3], "/")
		}
	}
	return ""
}

// originURL reads the url of [remote "origin"] from the config of the git repository
// holding dir ("" when there is none). A worktree's .git file points at its git
// directory, whose commondir holds the config.
func originURL(dir string) string {
	gitDir := ""
	for d := dir; ; {
		g := filepath.Join(d, ".git")
		if st, err := os.Stat(g); err == nil {
			gitDir = g
			if !st.IsDir() {
				gitDir = gitFileDir(g)
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
	if gitDir == "" {
		return ""
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		gitDir = c
	}
	f, err := os.Open(filepath.Join(gitDir, "config"))
	if err != nil {
		return ""
	}
	defer f.Close()
	return remoteURL(bufio.NewScanner(f), "origin")
}

// gitFileDir reads "gitdir: <path>" from a .git file.
func gitFileDir(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	d, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
	if !ok {
		return ""
	}
	d = strings.TrimSpace(d)
	if !filepath.IsAbs(d) {
		d = filepath.Join(filepath.Dir(name), d)
	}
	return d
}

// remoteURL finds the url of remote name in a git config file.
func remoteURL(sc *bufio.Scanner, name string) string {
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = line == `[remote "`+name+`"]`
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "url" {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// normalizeRemote turns a git remote URL into the https address of its repository:
// git@host:owner/repo.git, ssh://git@host:22/owner/repo, git://host/owner/repo and
// https://user:token@host/owner/repo.git all become https://host/owner/repo. Local
// paths and file:// remotes give "".
func normalizeRemote(remote string) string {
	remote = strings.TrimSpace(remote)
	if remote == "" {
		return ""
	}
	var host, p string
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		switch u.Scheme {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return ""
		}
		host, p = u.Hostname(), u.Path
	} else if at, rest, ok := strings.Cut(remote, ":"); ok && !strings.Contains(at, "/") && !strings.HasPrefix(rest, "//") {
		// scp-like: [user@]host:path
		host, p = at, rest
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = host[i+1:]
		}
	} else {
		return ""
	}
	p = strings.TrimSuffix(strings.Trim(path.Clean("/"+p), "/"), ".git")
	if host == "" || p == "" || !strings.Contains(host, ".") {
		return ""
	}
	return "https://" + strings.ToLower(host) + "/" + p
}
