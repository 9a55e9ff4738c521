package web_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/web"
)

func TestHTTP(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("every non-public route answers 401 without a session", func(t *testing.T) {
			e := newEnv(t, dialect)
			for _, q := range []req{
				{Method: "POST", Path: "/api/v1/logout"},
				{Path: "/api/v1/me"},
				{Method: "POST", Path: "/api/v1/verifications", Body: map[string]any{}},
				{Method: "PUT", Path: "/api/v1/me/password", Body: map[string]any{}},
				{Path: "/api/v1/agreements"},
				{Path: "/api/v1/agreements/privacy_statement"},
				{Method: "POST", Path: "/api/v1/agreements/sign", Body: map[string]any{}},
				{Path: "/api/v1/me/signings"},
				{Path: "/api/v1/me/sessions"},
				{Method: "DELETE", Path: "/api/v1/me/sessions/1"},
				{Path: "/api/v1/me/events"},
			} {
				for _, token := range []string{"", "forged-token"} {
					q.Token = token
					if r := e.do(q); r.Status != http.StatusUnauthorized || r.Code() != "unauthorized" {
						t.Errorf("%s %s: %d %s", q.Method, q.Path, r.Status, r.Body)
					}
				}
			}
		})
		t.Run("a cross-site POST is refused", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for _, path := range []string{"/api/v1/logout", "/login", "/logout", "/language"} {
				r := e.do(req{Method: "POST", Path: path, Token: tok, Header: map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, Body: "lang=en"})
				if r.Status != http.StatusForbidden {
					t.Errorf("%s: %d", path, r.Status)
				}
			}
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
		})
		t.Run("JSON routes refuse other content types", func(t *testing.T) {
			e := newEnv(t, dialect)
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
				r := e.do(req{Method: "POST", Path: "/api/v1/login", Header: map[string]string{"Content-Type": ct}, Body: `{"identifier":"a","password":"b"}`})
				if r.Status != http.StatusUnsupportedMediaType || r.Code() != "unsupported_media" {
					t.Errorf("%s: %d %s", ct, r.Status, r.Body)
				}
			}
		})
		t.Run("bodies are bounded and must be one JSON object of known fields", func(t *testing.T) {
			e := newEnv(t, dialect)
			for _, c := range []struct {
				body   string
				status int
				code   string
			}{
				{`{"identifier":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "too_large"},
				{`{"identifier":"a","password":"b","admin":true}`, 400, "malformed_request"},
				{`{"identifier":1}`, 400, "malformed_request"},
				{`{"identifier":"a"} {"x":1}`, 400, "malformed_request"},
				{``, 400, "malformed_request"},
				{`[`, 400, "malformed_request"},
			} {
				r := e.do(req{Method: "POST", Path: "/api/v1/login", Header: map[string]string{"Content-Type": "application/json"}, Body: c.body})
				if r.Status != c.status || r.Code() != c.code || r.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%.40q: %d %s", c.body, r.Status, r.Body)
				}
			}
		})
		t.Run("security headers are on every response, 404s included", func(t *testing.T) {
			e := newEnv(t, dialect)
			for _, path := range []string{"/login", "/nothing-here", "/api/v1/nothing", "/api/v1/me", "/healthz"} {
				r := e.do(req{Path: path})
				csp := r.Header.Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("%s: CSP %q lacks %q", path, csp, want)
					}
				}
				if strings.Contains(csp, "unsafe-inline") {
					t.Errorf("%s: CSP allows inline code", path)
				}
				for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
					if got := r.Header.Get(h); got != want {
						t.Errorf("%s: %s = %q, want %q", path, h, got, want)
					}
				}
				if r.Header.Get("Strict-Transport-Security") != "" {
					t.Errorf("%s: HSTS over plain HTTP", path)
				}
			}
			if r := e.do(req{Path: "/nothing-here"}); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "<html") {
				t.Errorf("console 404: %d", r.Status)
			}
		})
		t.Run("over TLS, cookies are __Host-, Secure, HttpOnly and SameSite=Lax, with HSTS", func(t *testing.T) {
			e := newEnv(t, dialect, func(c *web.Config) { c.SecureCookies = true })
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			page := e.must(http.StatusOK, req{Path: "/login"})
			if hsts := page.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=31536000") {
				t.Errorf("HSTS %q", hsts)
			}
			csrfCookie := findCookie(page.Header, "__Host-atrium_login_csrf")
			if csrfCookie == nil {
				t.Fatalf("no login CSRF cookie: %v", page.Header["Set-Cookie"])
			}
			token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page.Body))
			r := e.do(req{Method: "POST", Path: "/login", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrfCookie.Name + "=" + csrfCookie.Value},
				Body: "csrf=" + token[1] + "&identifier=alice&password=Initial-Pass-9031"})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/agreements/sign" {
				t.Fatalf("sign-in: %d %s", r.Status, r.Header.Get("Location"))
			}
			c := findCookie(r.Header, "__Host-atrium_session")
			if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("session cookie %+v", c)
			}
		})
		t.Run("the sign-in form refuses a post without its token", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			r := e.do(req{Method: "POST", Path: "/login", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "identifier=alice&password=Initial-Pass-9031"})
			if r.Status != http.StatusForbidden || findCookie(r.Header, "atrium_session") != nil {
				t.Fatalf("sign-in without token: %d", r.Status)
			}
		})
		t.Run("the console speaks the browser's language", func(t *testing.T) {
			e := newEnv(t, dialect)
			for lang, want := range map[string]string{"zh-CN,zh;q=0.9": "登录控制台", "en-US": "Sign in to the console", "fr-FR": "Sign in to the console", "zh-TW": "登录控制台"} {
				r := e.must(http.StatusOK, req{Path: "/login", Header: map[string]string{"Accept-Language": lang}})
				if !strings.Contains(string(r.Body), want) {
					t.Errorf("%s: page lacks %q", lang, want)
				}
			}
		})
		t.Run("health, readiness and metrics answer", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.must(http.StatusOK, req{Path: "/healthz"})
			e.must(http.StatusOK, req{Path: "/readyz"})
			r := e.must(http.StatusOK, req{Path: "/metrics"})
			if !strings.Contains(string(r.Body), "atrium_http_requests_total") {
				t.Fatal("no request metrics")
			}
		})
		t.Run("with a metrics token, metrics need it", func(t *testing.T) {
			e := newEnv(t, dialect, func(c *web.Config) { c.MetricsToken = "scrape-token-0123456789" })
			e.must(http.StatusUnauthorized, req{Path: "/metrics"})
			e.must(http.StatusUnauthorized, req{Path: "/metrics", Token: "wrong"})
			e.must(http.StatusOK, req{Path: "/metrics", Token: "scrape-token-0123456789"})
		})
		t.Run("a console page without a session goes to sign-in and comes back", func(t *testing.T) {
			e := newEnv(t, dialect)
			r := e.must(http.StatusSeeOther, req{Path: "/console/personal"})
			if loc := r.Header.Get("Location"); loc != "/login?next=%2Fconsole%2Fpersonal" {
				t.Fatalf("location %q", loc)
			}
		})
	})
}

func findCookie(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestTranslationsAreComplete checks that every message ID the templates use
// exists in every language, and that both languages have the same IDs.
func TestTranslationsAreComplete(t *testing.T) {
	langs := map[string]map[string]string{}
	for _, l := range []string{"en", "zh-CN"} {
		b, err := os.ReadFile("i18n/" + l + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		langs[l] = m
	}
	used := map[string]bool{}
	static := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	dynamic := regexp.MustCompile(`T \(printf "([a-z0-9_.]+)%s"`)
	fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile("templates/" + p)
		for _, m := range static.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		for _, m := range dynamic.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+"*"] = true
		}
		return nil
	})
	for id := range used {
		prefix, isPrefix := strings.CutSuffix(id, "*")
		for l, m := range langs {
			if isPrefix {
				found := false
				for k := range m {
					found = found || strings.HasPrefix(k, prefix)
				}
				if !found {
					t.Errorf("%s: no message starts with %q", l, prefix)
				}
			} else if _, ok := m[id]; !ok {
				t.Errorf("%s: missing %q", l, id)
			}
		}
	}
	for k := range langs["en"] {
		if _, ok := langs["zh-CN"][k]; !ok {
			t.Errorf("zh-CN lacks %q", k)
		}
	}
	for k := range langs["zh-CN"] {
		if _, ok := langs["en"][k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
}

// TestEveryEventAndErrorIsTranslated checks that each audit action the use cases
// record and each error code has a message in every language.
func TestEveryEventAndErrorIsTranslated(t *testing.T) {
	var src strings.Builder
	files, _ := fs.Glob(os.DirFS("../app"), "*.go")
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			b, _ := os.ReadFile("../app/" + f)
			src.Write(b)
		}
	}
	ids := map[string]bool{}
	for _, re := range []string{`accountEvent\([^,]+, "([a-z_.]+)"`, `Action: "([a-z_.]+)"`, `action(?:, kind)? :?= "([a-z_.]+)"`} {
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(src.String(), -1) {
			ids["event."+m[1]] = true
		}
	}
	for _, f := range []string{"email", "phone"} { // fieldOf(channel) + ".link" and so on
		for _, op := range []string{"link", "change", "unlink"} {
			ids["event."+f+"."+op] = true
		}
	}
	root, _ := os.ReadFile("../atrium.go")
	for _, m := range regexp.MustCompile(`(?m)^\s+E\w+\s+= "([a-z_]+)"`).FindAllStringSubmatch(string(root), -1) {
		ids["error."+m[1]] = true
	}
	if len(ids) < 20 {
		t.Fatalf("found only %d IDs; did the source layout change?", len(ids))
	}
	for _, l := range []string{"en", "zh-CN"} {
		b, _ := os.ReadFile("i18n/" + l + ".json")
		m := map[string]string{}
		json.Unmarshal(b, &m)
		for id := range ids {
			if _, ok := m[id]; !ok {
				t.Errorf("%s: missing %q", l, id)
			}
		}
	}
}
