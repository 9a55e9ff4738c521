package web

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

//go:embed templates
var templateFiles embed.FS

// view is what every console template gets.
type view struct {
	translator
	Lang      string
	Title     string
	Version   string
	Dev       bool
	Path      string
	Asset     func(string) string
	Account   *atrium.Account // nil when signed out
	Shell     bool            // show the account menu (no pending actions)
	Avatar    avatar
	Form      map[string]string // values to show again after an error
	Error     string            // a translated message for the whole form
	Errors    map[string]string // translated messages per field
	Notice    string
	CSRF      string
	Data      any
	StatusTxt string
}

// avatar is the profile picture, or the placeholder: initials on a colour
// derived from the account.
type avatar struct {
	URL      string
	Initials string
	Color    int
}

func newAvatar(a *atrium.Account) avatar {
	var initials []rune
	for _, r := range a.Username {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			initials = append(initials, unicode.ToUpper(r))
			if len(initials) == 2 {
				break
			}
		}
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%d", a.ID)
	return avatar{URL: app.ImageURL(a.AvatarID), Initials: string(initials), Color: int(h.Sum32() % 8)}
}

func (s *Server) loadTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"date": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			return ""
		},
		"day": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"mask": atrium.MaskContact,
		"paragraphs": func(s string) []string {
			var out []string
			for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		},
		"has":  func(list []string, v string) bool { return slices.Contains(list, v) },
		"list": func(v ...string) []string { return v },
		"verifyArgs": func(v *view, methods []flowMethod, method string, resend int) map[string]any {
			return map[string]any{"V": v, "Methods": methods, "Method": method, "Resend": resend}
		},
		"inc": func(i int) int { return i + 1 },
		"blockerChecks": func(b []atrium.Blocker) []string {
			var out []string
			for _, x := range b {
				out = append(out, x.Check)
			}
			return out
		},
		"mspRow": func(v *view, field, value string) map[string]any {
			d, _ := v.Data.(*personalView)
			return map[string]any{"V": v, "Field": field, "Value": value, "Owner": d != nil && d.Owner}
		},
	}
	pages := map[string]*template.Template{}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

// newView prepares the data of a page.
func (s *Server) newView(r *http.Request, p *app.Principal, titleID string) *view {
	accLang := ""
	if p != nil {
		accLang = p.Account.Language
	}
	lang := chooseLanguage(r, accLang)
	v := &view{
		translator: s.translator(lang),
		Lang:       lang,
		Version:    s.cfg.Version,
		Dev:        s.cfg.Development,
		Path:       r.URL.RequestURI(),
		Asset:      s.assets.url,
		Form:       map[string]string{},
		Errors:     map[string]string{},
	}
	v.Title = v.T(titleID)
	if p != nil {
		v.Account = p.Account
		v.Avatar = newAvatar(p.Account)
		v.Shell = len(s.app.Pending(p)) == 0
	}
	return v
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

type pageHandler func(w http.ResponseWriter, r *http.Request) error

type consoleHandler func(w http.ResponseWriter, r *http.Request, p *app.Principal) error

// pageKind says which console pages answer while actions are pending.
type pageKind int

const (
	gatedPage    pageKind = iota // only without pending actions
	agreeingPage                 // the agreement signing page
	passwordPage                 // the forced password change page
)

// page wraps a console page that needs no session.
func (s *Server) page(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, nil, err)
		}
	})
}

// console wraps a page of a signed-in account: without a session it goes to
// sign-in; with pending actions it goes to the page that clears the first one.
func (s *Server) console(kind pageKind, h consoleHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err != nil {
			if atrium.ErrorCode(err) != atrium.EUnauthorized {
				s.renderError(w, r, nil, err)
				return
			}
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/console" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			if atrium.ErrorDetails(err)["reason"] == "session_expired" {
				target = addQuery(target, "reason", "session_expired")
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if next := s.pendingPage(p); next != "" && next != r.URL.Path {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		} else if next == "" && kind != gatedPage {
			http.Redirect(w, r, "/console", http.StatusSeeOther)
			return
		}
		if err := h(w, r, p); err != nil {
			s.renderError(w, r, p, err)
		}
	})
}

func addQuery(target, k, v string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + k + "=" + url.QueryEscape(v)
}

// pendingPage is the page that clears the principal's first pending action, or "".
func (s *Server) pendingPage(p *app.Principal) string {
	pending := s.app.Pending(p)
	switch {
	case slices.Contains(pending, atrium.PendingSignAgreements):
		return "/agreements/sign"
	case slices.Contains(pending, atrium.PendingChangePassword):
		return "/password/change"
	}
	return ""
}

// renderError shows an error page; an error without a code is logged, never shown.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *app.Principal, err error) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = atrium.Errorf(atrium.ETooLarge, "The request is too large.")
	}
	code := atrium.ErrorCode(err)
	if code == atrium.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", "error", err.Error(), "request_id", requestID(r))
	}
	status := statusFor(code)
	v := s.newView(r, p, "error.title")
	v.StatusTxt = fmt.Sprint(status)
	v.Error = v.T("error." + code)
	if rerr := s.render(w, r, status, "error", v); rerr != nil {
		s.log.ErrorContext(r.Context(), "render error page", "error", rerr.Error())
		http.Error(w, http.StatusText(status), status)
	}
}

func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) error {
	p, _ := s.principal(r)
	s.renderError(w, r, p, atrium.Errorf(atrium.ENotFound, "Not found."))
	return nil
}

func (s *Server) pageRoot(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.principal(r); err == nil {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
	return nil
}

// Cookies.

func (s *Server) cookieName(base string) string {
	if s.cfg.SecureCookies {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires, HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// loginCSRF returns the sign-in form's token, setting its cookie if missing: a
// double-submit token that stops a cross-site page from signing the browser in
// to the attacker's account.
func (s *Server) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	name := s.cookieName("atrium_login_csrf")
	if c, err := r.Cookie(name); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(w, name, tok, time.Time{})
	return tok
}

func (s *Server) checkLoginCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName("atrium_login_csrf"))
	form := r.PostFormValue("csrf")
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// safeNext returns next if it is a local path of the console, else "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

// loginReasons are the sentences the sign-in page can show on arrival.
var loginReasons = []string{"session_expired", "signed_out", "username_changed", "password_changed", "password_reset", "account_deleted"}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) error {
	if p, err := s.principal(r); err == nil {
		target := s.pendingPage(p)
		if target == "" {
			target = "/console"
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	v := s.newView(r, nil, "login.title")
	v.CSRF = s.loginCSRF(w, r)
	v.Form["next"] = safeNext(r.URL.Query().Get("next"))
	if reason := r.URL.Query().Get("reason"); slices.Contains(loginReasons, reason) {
		v.Notice = v.T("login.reason." + reason)
	}
	v.Data = s.cfg.DemoUsername
	return s.render(w, r, http.StatusOK, "login", v)
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v := s.newView(r, nil, "login.title")
	v.Data = s.cfg.DemoUsername
	v.Form["identifier"] = r.PostFormValue("identifier")
	v.Form["next"] = safeNext(r.PostFormValue("next"))
	if !s.checkLoginCSRF(r) {
		v.CSRF = s.loginCSRF(w, r)
		v.Error = v.T("login.csrf")
		return s.render(w, r, http.StatusForbidden, "login", v)
	}
	res, err := s.app.Login(r.Context(), app.LoginInput{Identifier: r.PostFormValue("identifier"), Password: r.PostFormValue("password"), ClientIP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		code := atrium.ErrorCode(err)
		switch code {
		case atrium.EInvalidCredentials:
			v.Error = v.T("error.invalid_credentials")
		case atrium.EAccountLocked, atrium.ERateLimited:
			v.Error = s.errorText(v, err)
		default:
			return err
		}
		v.CSRF = s.loginCSRF(w, r)
		return s.render(w, r, statusFor(code), "login", v)
	}
	if res.LoginID != "" {
		d := &secondFactorView{LoginID: res.LoginID, Method: res.Method, Next: v.Form["next"]}
		if res.Code != nil {
			d.SentTo, d.ResendAfter = res.Code.SentTo, int(res.Code.ResendAfter.Seconds())
		}
		return s.renderSecondFactor(w, r, v, http.StatusOK, d)
	}
	s.finishLogin(w, r, res, v.Form["next"])
	return nil
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	if p, err := s.principal(r); err == nil {
		if err := s.app.Logout(r.Context(), p); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?reason=signed_out", http.StatusSeeOther)
	return nil
}

func (s *Server) postLanguage(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	lang, ok := supportedLanguage(r.PostFormValue("lang"))
	if !ok {
		return atrium.Errorf(atrium.EInvalid, "Unknown language.")
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	if p, err := s.principal(r); err == nil {
		if err := s.app.SetLanguage(r.Context(), p, lang); err != nil {
			return err
		}
	}
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// signView is the agreement signing page's data.
type signView struct {
	Agreements []app.AgreementStatus
	Update     bool // the account signed before: this is a new version
}

func (s *Server) pageSignAgreements(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v := s.newView(r, p, "sign.title")
	data, err := s.signData(r, p)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, r, http.StatusOK, "sign", v)
}

func (s *Server) signData(r *http.Request, p *app.Principal) (*signView, error) {
	list, err := s.app.Agreements(r.Context(), p)
	if err != nil {
		return nil, err
	}
	data := &signView{}
	for _, a := range list {
		if slices.Contains(atrium.LoginAgreementTypes, a.Type) {
			if !a.Signed {
				data.Agreements = append(data.Agreements, a)
			}
			if a.Version > 1 {
				data.Update = true
			}
		}
	}
	return data, nil
}

func (s *Server) postSignAgreements(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v := s.newView(r, p, "sign.title")
	var items []app.SignItem
	for _, tv := range r.PostForm["agreement"] {
		typ, ver, ok := strings.Cut(tv, ":")
		var n int
		if _, err := fmt.Sscan(ver, &n); !ok || err != nil {
			return atrium.Errorf(atrium.EMalformed, "Bad form.")
		}
		items = append(items, app.SignItem{Type: typ, Version: n})
	}
	var err error
	if r.PostFormValue("agree") != "yes" {
		err = atrium.Errorf(atrium.EInvalid, "Tick the box to agree.")
		v.Errors["agree"] = v.T("sign.must_agree")
	} else if err = s.app.SignAgreements(r.Context(), p, items); err != nil {
		switch atrium.ErrorCode(err) {
		case atrium.EAgreementOutdated, atrium.EInvalid:
			v.Error = v.T("error." + atrium.ErrorCode(err))
		default:
			return err
		}
	}
	if err != nil {
		data, derr := s.signData(r, p)
		if derr != nil {
			return derr
		}
		v.Data = data
		return s.render(w, r, statusFor(atrium.ErrorCode(err)), "sign", v)
	}
	target := s.pendingPage(p)
	if target == "" {
		target = "/console"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) pageAgreement(w http.ResponseWriter, r *http.Request) error {
	p, _ := s.principal(r)
	a, err := s.app.Agreement(r.Context(), r.PathValue("type"))
	if err != nil {
		return err
	}
	v := s.newView(r, p, "agreement."+a.Type)
	v.Data = a
	return s.render(w, r, http.StatusOK, "agreement", v)
}

// passwordView is the forced password change page's data.
type passwordView struct {
	Initial bool // the operator set the password
	Rules   []string
}

func (s *Server) passwordData(p *app.Principal) *passwordView {
	return &passwordView{Initial: p.Account.PasswordMustChange, Rules: []string{"length", "letter_digit", "no_name", "not_common", "not_reused"}}
}

func (s *Server) pageChangePassword(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v := s.newView(r, p, "password.title")
	v.Data = s.passwordData(p)
	return s.render(w, r, http.StatusOK, "password", v)
}

func (s *Server) postChangePassword(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v := s.newView(r, p, "password.title")
	v.Data = s.passwordData(p)
	current, next, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	fail := func(field, msg string, status int) error {
		v.Errors[field] = msg
		return s.render(w, r, status, "password", v)
	}
	if next != confirm {
		return fail("confirm_password", v.T("password.mismatch"), http.StatusUnprocessableEntity)
	}
	t, err := s.app.Verify(r.Context(), p, app.VerifyInput{Purpose: atrium.PurposePassword, Method: atrium.MethodPassword, Password: current})
	if err != nil {
		switch code := atrium.ErrorCode(err); code {
		case atrium.EVerificationFailed:
			return fail("current_password", v.T("error.verification_failed"), statusFor(code))
		case atrium.EAccountLocked:
			until, _ := atrium.ErrorDetails(err)["locked_until"].(time.Time)
			return fail("current_password", v.T("error.account_locked", "Until", until.UTC().Format("2006-01-02 15:04:05 UTC")), statusFor(code))
		}
		return err
	}
	if _, err := s.app.ChangePassword(r.Context(), p, t.Ticket, next); err != nil {
		if atrium.ErrorCode(err) == atrium.EWeakPassword {
			reasons, _ := atrium.ErrorDetails(err)["reasons"].([]string)
			msgs := make([]string, 0, len(reasons))
			for _, reason := range reasons {
				msgs = append(msgs, v.T("password.reason."+reason))
			}
			return fail("new_password", strings.Join(msgs, " "), http.StatusUnprocessableEntity)
		}
		return err
	}
	target := s.pendingPage(p)
	if target == "" {
		target = "/console?notice=password_changed"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) pageConsole(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v := s.newView(r, p, "console.title")
	if r.URL.Query().Get("notice") == "password_changed" {
		v.Notice = v.T("password.changed")
	}
	return s.render(w, r, http.StatusOK, "console", v)
}

// personalView is the Personal Center's data.
type personalView struct {
	Me         meJSON
	MSP        *atrium.MSP
	LogoURL    string
	Owner      bool // the MSP's top-level account: edits MSP information
	Agreements []app.AgreementStatus
	Signings   []*atrium.Signing
	Sessions   []*atrium.Session
	Events     []*atrium.Event
	CurrentID  int64
}

func (s *Server) pagePersonal(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v := s.newView(r, p, "personal.title")
	switch action := r.URL.Query().Get("notice"); {
	case flowDefs[action].Purpose != "":
		v.Notice = v.T("flow.done." + action)
	case action == "avatar" || action == "logo" || action == "msp":
		v.Notice = v.T("personal.saved." + action)
	}
	return s.renderPersonal(w, r, p, v, http.StatusOK)
}

// renderPersonal shows Personal Center with v's notices and errors.
func (s *Server) renderPersonal(w http.ResponseWriter, r *http.Request, p *app.Principal, v *view, status int) error {
	data := &personalView{Me: s.meView(p), CurrentID: p.Session.ID, Owner: p.Account.IsMSPOwner()}
	var err error
	if p.Account.Kind == atrium.KindMSP {
		if data.MSP, err = s.app.MSP(r.Context(), p); err != nil {
			return err
		}
		data.LogoURL = app.ImageURL(data.MSP.LogoID)
	}
	if data.Agreements, err = s.app.Agreements(r.Context(), p); err != nil {
		return err
	}
	if data.Signings, err = s.app.Signings(r.Context(), p); err != nil {
		return err
	}
	if data.Sessions, err = s.app.Sessions(r.Context(), p); err != nil {
		return err
	}
	if data.Events, err = s.app.Events(r.Context(), p, 10); err != nil {
		return err
	}
	v.Data = data
	return s.render(w, r, status, "personal", v)
}

func (s *Server) postRevokeSession(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.app.RevokeSession(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/personal#security", http.StatusSeeOther)
	return nil
}
