package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

type loginRequest struct {
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	res, err := s.app.Login(r.Context(), app.LoginInput{Identifier: req.Identifier, Password: req.Password, ClientIP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		return err
	}
	if res.LoginID != "" {
		body := map[string]any{}
		if res.Code != nil {
			body = codeSentJSON(res.Code)
		}
		body["status"], body["login_id"], body["method"] = "second_factor_required", res.LoginID, res.Method
		writeJSON(w, http.StatusOK, body)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "authenticated", "token": res.Token, "pending": res.Pending, "expires_at": res.Principal.Session.ExpiresAt})
	return nil
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	if err := s.app.Logout(r.Context(), p); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type orgJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Authenticated *bool  `json:"authenticated,omitempty"`
}

type completenessJSON struct {
	Percent int      `json:"percent"`
	Missing []string `json:"missing"`
}

type meJSON struct {
	ID                int64            `json:"id"`
	Username          string           `json:"username"`
	Kind              string           `json:"kind"`
	Role              string           `json:"role"`
	MSP               *orgJSON         `json:"msp"`
	Tenant            *orgJSON         `json:"tenant"`
	Email             *string          `json:"email"`
	Phone             *string          `json:"phone"`
	AvatarURL         *string          `json:"avatar_url"`
	TwoFactorEnabled  bool             `json:"two_factor_enabled"`
	AuthenticatorOn   bool             `json:"authenticator_enabled"`
	PasswordChangedAt time.Time        `json:"password_changed_at"`
	PasswordExpiresAt *time.Time       `json:"password_expires_at"`
	LastLoginAt       *time.Time       `json:"last_login_at"`
	CreatedAt         time.Time        `json:"created_at"`
	Completeness      completenessJSON `json:"completeness"`
	Pending           []string         `json:"pending"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) meView(p *app.Principal) meJSON {
	a := p.Account
	percent, missing := a.Completeness()
	me := meJSON{
		ID: a.ID, Username: a.Username, Kind: a.Kind, Role: a.Role,
		Email: optional(a.Email), Phone: optional(a.Phone), AvatarURL: optional(app.ImageURL(a.AvatarID)),
		TwoFactorEnabled: a.TwoFactorEnabled, AuthenticatorOn: a.TOTPEnabled, PasswordChangedAt: a.PasswordChangedAt,
		PasswordExpiresAt: s.app.PasswordExpiresAt(a), LastLoginAt: a.LastLoginAt, CreatedAt: a.CreatedAt,
		Completeness: completenessJSON{Percent: percent, Missing: missing},
		Pending:      s.app.Pending(p),
	}
	if a.Kind == atrium.KindMSP {
		auth := a.MSPAuthenticated
		me.MSP = &orgJSON{ID: a.MSPID, Name: a.OrgName, Authenticated: &auth}
	} else {
		me.Tenant = &orgJSON{ID: a.TenantID, Name: a.OrgName}
	}
	return me
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	writeJSON(w, http.StatusOK, s.meView(p))
	return nil
}

type verifyRequest struct {
	Purpose  string `json:"purpose"`
	Method   string `json:"method"`
	Password string `json:"password,omitempty"`
	Code     string `json:"code,omitempty"`
}

func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req verifyRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	t, err := s.app.Verify(r.Context(), p, app.VerifyInput{Purpose: req.Purpose, Method: req.Method, Password: req.Password, Code: req.Code})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": t.Ticket, "expires_at": t.ExpiresAt})
	return nil
}

type passwordRequest struct {
	Ticket      string `json:"ticket"`
	NewPassword string `json:"new_password"`
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req passwordRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	exp, err := s.app.ChangePassword(r.Context(), p, req.Ticket, req.NewPassword)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"password_expires_at": exp, "pending": s.app.Pending(p)})
	return nil
}

type agreementJSON struct {
	Type        string    `json:"type"`
	Version     int       `json:"version"`
	Title       string    `json:"title"`
	Sample      bool      `json:"sample"`
	PublishedAt time.Time `json:"published_at"`
	Signed      *bool     `json:"signed,omitempty"`
	Body        string    `json:"body,omitempty"`
}

func (s *Server) apiAgreements(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	list, err := s.app.Agreements(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]agreementJSON, 0, len(list))
	for _, a := range list {
		signed := a.Signed
		out = append(out, agreementJSON{Type: a.Type, Version: a.Version, Title: a.Title, Sample: a.Sample, PublishedAt: a.PublishedAt, Signed: &signed})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agreements": out})
	return nil
}

func (s *Server) apiAgreement(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	a, err := s.app.Agreement(r.Context(), r.PathValue("type"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agreementJSON{Type: a.Type, Version: a.Version, Title: a.Title, Sample: a.Sample, PublishedAt: a.PublishedAt, Body: a.Body})
	return nil
}

type signRequest struct {
	Agreements []app.SignItem `json:"agreements"`
}

func (s *Server) apiSign(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req signRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.SignAgreements(r.Context(), p, req.Agreements); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": s.app.Pending(p)})
	return nil
}

type signingJSON struct {
	Type     string    `json:"type"`
	Version  int       `json:"version"`
	Scenario string    `json:"scenario"`
	SignedAt time.Time `json:"signed_at"`
	ClientIP string    `json:"client_ip"`
}

func (s *Server) apiSignings(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	list, err := s.app.Signings(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]signingJSON, 0, len(list))
	for _, g := range list {
		out = append(out, signingJSON{Type: g.Type, Version: g.Version, Scenario: g.Scenario, SignedAt: g.SignedAt, ClientIP: g.ClientIP})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type sessionJSON struct {
	ID         int64     `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	ClientIP   string    `json:"client_ip"`
	UserAgent  string    `json:"user_agent"`
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	list, err := s.app.Sessions(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{ID: x.ID, Current: x.ID == p.Session.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, ClientIP: x.ClientIP, UserAgent: x.UserAgent})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiRevokeSession(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.app.RevokeSession(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type eventJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	AccountID int64     `json:"account_id,omitempty"`
	MSPID     int64     `json:"msp_id,omitempty"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
	ClientIP  string    `json:"client_ip"`
	Detail    string    `json:"detail"`
}

func eventsJSON(list []*atrium.Event) []eventJSON {
	out := make([]eventJSON, 0, len(list))
	for _, e := range list {
		out = append(out, eventJSON{ID: e.ID, At: e.At, AccountID: e.AccountID, MSPID: e.MSPID, Actor: e.Actor, Action: e.Action, Outcome: e.Outcome, ClientIP: e.ClientIP, Detail: e.Detail})
	}
	return out
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := s.app.Events(r.Context(), p, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventsJSON(list))
	return nil
}

// pathID parses a positive integer path value; ENotFound otherwise, as for an id
// that does not exist.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	return id, nil
}
