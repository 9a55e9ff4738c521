package web

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/export"
)

// maxUpload bounds an image upload: the pipeline refuses more than 10 MB, and
// a declared length past it is refused before anything is read.
const maxUpload = 10 << 20

// apiUpload wraps a signed-in route whose body is an image, not JSON.
func (s *Server) apiUpload(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err == nil {
			err = s.checkGate(p, gated)
		}
		if err == nil && r.ContentLength > maxUpload+64<<10 {
			err = atrium.Errorf(atrium.ETooLarge, "The image is larger than 10 MB.")
		}
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1)
			err = h(w, r, p)
		}
		if err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

func (s *Server) apiAvatar(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	url, err := s.app.SetAvatar(r.Context(), p, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"avatar_url": url})
	return nil
}

func (s *Server) apiLogo(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	url, err := s.app.SetLogo(r.Context(), p, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"logo_url": url})
	return nil
}

func mspInfoJSON(m *atrium.MSP) map[string]any {
	return map[string]any{"id": m.ID, "name": m.Name, "industry": m.Industry, "address": m.Address, "phone": m.Phone,
		"logo_url": optional(app.ImageURL(m.LogoID)), "authenticated": m.Authenticated}
}

func (s *Server) apiMSP(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	m, err := s.app.MSP(r.Context(), p)
	if err != nil {
		return err
	}
	out := mspInfoJSON(m)
	out["editable"] = p.Account.IsMSPOwner()
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiPatchMSP(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var patch app.MSPPatch
	if err := decode(w, r, &patch, maxJSONBody); err != nil {
		return err
	}
	m, err := s.app.UpdateMSP(r.Context(), p, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mspInfoJSON(m))
	return nil
}

// serveImage answers GET /images/{id}: content-addressed, so cached forever;
// the type is the one Atrium encoded, never sniffed, and a sandbox CSP keeps
// the image from ever running as a document.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) {
	img, err := s.app.Image(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", img.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(img.Data)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox; frame-ancestors 'none'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", "inline")
	h.Set("ETag", `"`+img.ID+`"`)
	if r.Header.Get("If-None-Match") == `"`+img.ID+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(img.Data)
}

// apiExport answers the personal data as an .xlsx file in the account's
// language, with a file name chosen here.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	d, err := s.app.Export(r.Context(), p)
	if err != nil {
		return err
	}
	lang := chooseLanguage(r, d.Account.Language)
	var buf bytes.Buffer
	if err := export.Workbook(&buf, s.exportSheets(s.translator(lang), d)); err != nil {
		return err
	}
	name := fmt.Sprintf("personal-information-%s-%s.xlsx", safeFileName(d.Account.Username), s.app.Now().UTC().Format("2006-01-02"))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
	return nil
}

// safeFileName keeps letters, digits, "_", "-" and "." of a username (which
// has nothing else) and drops anything else, so a file name is never a path.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == '"' || r == ':' {
			return -1
		}
		return r
	}, s)
}

func (s *Server) exportSheets(t translator, d *app.ExportData) []export.Sheet {
	a := d.Account
	yesNo := func(b bool) string {
		if b {
			return t.T("common.on")
		}
		return t.T("common.off")
	}
	when := func(tm *time.Time) string {
		if tm == nil {
			return ""
		}
		return tm.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	kind := t.T("console.tenant_account")
	if a.Kind == atrium.KindMSP {
		kind = t.T("console.msp_account")
	}
	role := t.T("role.member")
	if a.Role == atrium.RoleOwner {
		role = t.T("role.owner")
	}
	changed := a.PasswordChangedAt
	info := [][]string{
		{t.T("personal.username"), a.Username},
		{t.T("personal.account_type"), kind + " · " + role},
		{t.T("personal.phone"), a.Phone},
		{t.T("personal.email"), a.Email},
		{t.T("export.organisation"), a.OrgName},
		{t.T("export.created_at"), when(&a.CreatedAt)},
		{t.T("export.last_login"), when(a.LastLoginAt)},
		{t.T("personal.two_factor"), yesNo(a.TwoFactorEnabled)},
		{t.T("export.password_changed"), when(&changed)},
		{t.T("export.password_next"), when(d.Expires)},
	}
	if d.MSP != nil {
		info = append(info,
			[]string{t.T("msp.industry"), d.MSP.Industry},
			[]string{t.T("msp.address"), d.MSP.Address},
			[]string{t.T("msp.phone"), d.MSP.Phone},
			[]string{t.T("msp.authentication"), yesNo(d.MSP.Authenticated)})
	}
	var signed [][]string
	for _, g := range d.Signings {
		signed = append(signed, []string{t.T("agreement." + g.Type), strconv.Itoa(g.Version), t.T("scenario." + g.Scenario), g.SignedAt.UTC().Format("2006-01-02 15:04:05 UTC"), g.ClientIP})
	}
	return []export.Sheet{
		{Name: t.T("export.sheet_info"), Headers: []string{t.T("export.item"), t.T("export.value")}, Rows: info},
		{Name: t.T("export.sheet_signings"), Headers: []string{t.T("agreements.col_agreement"), t.T("agreements.col_version"), t.T("agreements.col_scenario"), t.T("agreements.col_signed_at"), t.T("agreements.col_address")}, Rows: signed},
	}
}

// formImage returns the "image" file of a multipart form, bounded; ETooLarge or
// EUnsupportedImage.
func formImage(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	if r.ContentLength > maxUpload+64<<10 {
		return nil, atrium.Errorf(atrium.ETooLarge, "The image is larger than 10 MB.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, atrium.Errorf(atrium.EMalformed, "Send the image as a multipart form.")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if strings.Contains(err.Error(), "too large") {
				return nil, atrium.Errorf(atrium.ETooLarge, "The image is larger than 10 MB.")
			}
			return nil, atrium.Errorf(atrium.EUnsupportedImage, "Choose an image to upload.")
		}
		if part.FormName() == "image" {
			return part, nil
		}
	}
}
