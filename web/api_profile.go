package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/store"
)

func codeSentJSON(c *app.CodeSent) map[string]any {
	return map[string]any{"sent_to": c.SentTo, "expires_in": int(c.ExpiresIn.Seconds()), "resend_after": int(c.ResendAfter.Seconds())}
}

type secondFactorRequest struct {
	LoginID string `json:"login_id"`
	Code    string `json:"code,omitempty"`
}

func (s *Server) apiLoginSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var req secondFactorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	res, err := s.app.LoginSecondFactor(r.Context(), req.LoginID, req.Code, app.LoginInput{ClientIP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "authenticated", "token": res.Token, "pending": res.Pending, "expires_at": res.Principal.Session.ExpiresAt})
	return nil
}

func (s *Server) apiLoginResendCode(w http.ResponseWriter, r *http.Request) error {
	var req secondFactorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	sent, err := s.app.ResendLoginCode(r.Context(), req.LoginID, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, codeSentJSON(sent))
	return nil
}

type codeRequest struct {
	Purpose string `json:"purpose"`
	Channel string `json:"channel"`
}

func (s *Server) apiSendCode(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req codeRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	sent, err := s.app.SendCode(r.Context(), p, req.Purpose, req.Channel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, codeSentJSON(sent))
	return nil
}

type usernameRequest struct {
	Ticket   string `json:"ticket"`
	Username string `json:"username"`
}

func (s *Server) apiChangeUsername(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req usernameRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.ChangeUsername(r.Context(), p, req.Ticket, req.Username); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	writeJSON(w, http.StatusOK, map[string]any{"username": req.Username, "signed_out": true})
	return nil
}

type linkRequest struct {
	Ticket string `json:"ticket"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Code   string `json:"code,omitempty"`
}

// channelOf maps the route's {what} ("email" or "phone") to the channel.
func channelOf(what string) string {
	if what == "phone" {
		return atrium.MethodSMS
	}
	return atrium.MethodEmail
}

func (s *Server) apiStartLink(what string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
		var req linkRequest
		if err := decode(w, r, &req, maxJSONBody); err != nil {
			return err
		}
		addr := req.Email
		if what == "phone" {
			addr = req.Phone
		}
		sent, err := s.app.StartLink(r.Context(), p, channelOf(what), req.Ticket, addr)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, codeSentJSON(sent))
		return nil
	}
}

func (s *Server) apiConfirmLink(what string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
		var req linkRequest
		if err := decode(w, r, &req, maxJSONBody); err != nil {
			return err
		}
		if err := s.app.ConfirmLink(r.Context(), p, channelOf(what), req.Code); err != nil {
			return err
		}
		return s.writeMe(w, r, p)
	}
}

func (s *Server) apiUnlink(what string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
		var req linkRequest
		if err := decode(w, r, &req, maxJSONBody); err != nil {
			return err
		}
		if err := s.app.Unlink(r.Context(), p, channelOf(what), req.Ticket); err != nil {
			return err
		}
		return s.writeMe(w, r, p)
	}
}

// writeMe answers the account as GET /api/v1/me shows it after a change.
func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	acc, err := s.app.DB.AccountByID(r.Context(), p.Account.ID)
	if err != nil {
		return err
	}
	p.Account = acc
	writeJSON(w, http.StatusOK, s.meView(p))
	return nil
}

type twoFactorRequest struct {
	Ticket  string `json:"ticket"`
	Enabled *bool  `json:"enabled"`
}

func (s *Server) apiTwoFactor(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req twoFactorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if req.Enabled == nil {
		return atrium.Errorf(atrium.EInvalid, "enabled (true or false) is required.").With("field", "enabled")
	}
	if err := s.app.SetTwoFactor(r.Context(), p, req.Ticket, *req.Enabled); err != nil {
		return err
	}
	return s.writeMe(w, r, p)
}

type recoveryRequest struct {
	Identifier  string `json:"identifier"`
	Channel     string `json:"channel,omitempty"`
	Code        string `json:"code,omitempty"`
	NewPassword string `json:"new_password,omitempty"`
}

func (s *Server) apiRecoveryCode(w http.ResponseWriter, r *http.Request) error {
	var req recoveryRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.RequestRecovery(r.Context(), req.Identifier, req.Channel, s.clientIP(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent_if_linked", "expires_in": int(s.app.Config.CodeTTL.Seconds()), "resend_after": int(s.app.Config.CodeResend.Seconds())})
	return nil
}

func (s *Server) apiRecover(w http.ResponseWriter, r *http.Request) error {
	var req recoveryRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.Recover(r.Context(), req.Identifier, req.Code, req.NewPassword, s.clientIP(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "password_reset"})
	return nil
}

func (s *Server) adminNotify(w http.ResponseWriter, r *http.Request) error {
	var in app.NotificationInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	channels, err := s.app.SendNotification(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"channels": channels})
	return nil
}

// adminMessages answers GET /admin/v1/messages?status=&account_id=&limit=: the
// outbox without bodies, so the operator sees what failed and why.
func (s *Server) adminMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.MessageFilter{Status: q.Get("status")}
	switch f.Status {
	case "", store.MessageQueued, store.MessageSent, store.MessageFailed:
	default:
		return atrium.Errorf(atrium.EInvalid, "status is queued, sent or failed.").With("field", "status")
	}
	if v := q.Get("account_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return atrium.Errorf(atrium.EInvalid, "The account_id filter is not valid.").With("field", "account_id")
		}
		f.AccountID = id
	}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	var list []*store.Message
	err := s.app.DB.View(r.Context(), func(tx *store.Tx) error {
		var err error
		list, err = tx.Messages(r.Context(), f)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, m := range list {
		out = append(out, map[string]any{"id": m.ID, "account_id": m.AccountID, "channel": m.Channel, "to": atrium.MaskContact(m.Destination), "kind": m.Kind,
			"status": m.Status, "attempts": m.Attempts, "last_error": m.LastError, "created_at": m.CreatedAt, "sent_at": m.SentAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
	return nil
}

// devOutbox answers GET /dev/outbox (development only): every message a real
// deployment would have sent, newest last; JSON, or a page for browsers.
func (s *Server) devOutbox(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Outbox.Outbox(r.Context(), store.MessageFilter{Limit: 200})
	if err != nil {
		return err
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, list)
		return nil
	}
	p, _ := s.principal(r)
	v := s.newView(r, p, "outbox.title")
	v.Data = list
	return s.render(w, r, http.StatusOK, "outbox", v)
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

type authenticatorRequest struct {
	Ticket string `json:"ticket"`
	Code   string `json:"code,omitempty"`
}

func (s *Server) apiStartAuthenticator(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req authenticatorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	e, err := s.app.StartAuthenticator(r.Context(), p, req.Ticket)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"secret": e.Secret, "otpauth_url": e.URL, "qr_png": pngDataURL(e.QRPNG)})
	return nil
}

func (s *Server) apiConfirmAuthenticator(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req authenticatorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	codes, err := s.app.ConfirmAuthenticator(r.Context(), p, req.Ticket, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

func (s *Server) apiDisableAuthenticator(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req authenticatorRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.DisableAuthenticator(r.Context(), p, req.Ticket); err != nil {
		return err
	}
	return s.writeMe(w, r, p)
}

func pngDataURL(b []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}
