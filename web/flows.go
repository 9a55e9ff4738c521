package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

// A flow is one sensitive change in the console: the seed's two-step dialog,
// "Verify identity" (password, SMS code or email code) → "Next" → the change's
// own form. Each step is a plain page that works without JavaScript; app.js
// shows the same pages in a dialog.
type flowDef struct {
	Purpose string // verification purpose
	Channel string // for email and phone: the channel of the address
	Unlink  bool   // asks for confirmation first, and has no form after verification
}

var flowDefs = map[string]flowDef{
	"username":          {Purpose: atrium.PurposeUsername},
	"email":             {Purpose: atrium.PurposeEmail, Channel: atrium.MethodEmail},
	"phone":             {Purpose: atrium.PurposePhone, Channel: atrium.MethodSMS},
	"email-unlink":      {Purpose: atrium.PurposeEmail, Channel: atrium.MethodEmail, Unlink: true},
	"phone-unlink":      {Purpose: atrium.PurposePhone, Channel: atrium.MethodSMS, Unlink: true},
	"password":          {Purpose: atrium.PurposePassword},
	"two-factor":        {Purpose: atrium.PurposeTwoFactor},
	"authenticator":     {Purpose: atrium.PurposeTwoFactor},
	"authenticator-off": {Purpose: atrium.PurposeTwoFactor, Unlink: true},
}

// flowView is the data of a flow page.
type flowView struct {
	Action      string
	Step        string // confirm, verify, form, code
	Methods     []flowMethod
	Method      string
	Ticket      string
	SentTo      string
	ResendAfter int
	Address     string // the new address of a link
	Current     string // the current (masked) value the action changes
	Enable      bool   // two-factor: the state to switch to
	Rules       []string
	Username    string
	Unlink      bool
	QR          template.URL // authenticator: the QR code as a data URL (made here, so safe)
	OTPURL      string       // authenticator: the otpauth URL (round-trips the form)
	Secret      string       // authenticator: the secret to type in
	Recovery    []string     // authenticator: the recovery codes, shown once
}

type flowMethod struct {
	Value  string // password, sms, email
	Masked string // the linked address for codes
}

func (s *Server) flowMethods(acc *atrium.Account) []flowMethod {
	m := []flowMethod{{Value: atrium.MethodPassword}}
	if acc.Phone != "" {
		m = append(m, flowMethod{Value: atrium.MethodSMS, Masked: atrium.MaskContact(acc.Phone)})
	}
	if acc.Email != "" {
		m = append(m, flowMethod{Value: atrium.MethodEmail, Masked: atrium.MaskContact(acc.Email)})
	}
	if acc.TOTPEnabled {
		m = append(m, flowMethod{Value: atrium.MethodTOTP})
	}
	return m
}

func (s *Server) newFlow(r *http.Request, p *app.Principal, action string) (*view, *flowView) {
	v := s.newView(r, p, "flow."+action)
	acc := p.Account
	fv := &flowView{Action: action, Step: "verify", Methods: s.flowMethods(acc), Method: atrium.MethodPassword, Enable: !acc.TwoFactorEnabled, Username: acc.Username}
	switch action {
	case "username":
		fv.Current = acc.Username
	case "email", "email-unlink":
		fv.Current = atrium.MaskContact(acc.Email)
	case "phone", "phone-unlink":
		fv.Current = atrium.MaskContact(acc.Phone)
	case "password":
		fv.Rules = []string{"length", "letter_digit", "no_name", "not_common", "not_reused"}
	}
	if flowDefs[action].Unlink {
		fv.Step, fv.Unlink = "confirm", true
	}
	v.Data = fv
	return v, fv
}

func (s *Server) flowAction(r *http.Request) (string, flowDef, error) {
	action := r.PathValue("action")
	def, ok := flowDefs[action]
	if !ok {
		return "", def, atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	return action, def, nil
}

// pageFlow shows the first step of a flow.
func (s *Server) pageFlow(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	action, _, err := s.flowAction(r)
	if err != nil {
		return err
	}
	v, _ := s.newFlow(r, p, action)
	return s.render(w, r, http.StatusOK, "flow", v)
}

// postFlow takes one step of a flow.
func (s *Server) postFlow(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	action, def, err := s.flowAction(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v, fv := s.newFlow(r, p, action)
	ctx := r.Context()
	form := r.PostForm
	fv.Method = form.Get("method")
	if fv.Method == "" {
		fv.Method = atrium.MethodPassword
	}
	for _, k := range []string{"username", "address", "code"} {
		v.Form[k] = form.Get(k)
	}
	// fail shows the same step again with a message under the field.
	fail := func(step, field string, err error) error {
		code := atrium.ErrorCode(err)
		if code == atrium.EInternal || code == atrium.EMalformed {
			return err
		}
		fv.Step = step
		if secs, ok := atrium.ErrorDetails(err)["retry_after"].(int); ok && code == atrium.ERateLimited {
			fv.ResendAfter = secs // the button counts down to when a code may be sent
		}
		msg := s.errorText(v, err)
		if field == "" {
			v.Error = msg
		} else {
			v.Errors[field] = msg
		}
		return s.render(w, r, statusFor(code), "flow", v)
	}

	switch form.Get("step") {
	case "confirm":
		fv.Step = "verify"
		return s.render(w, r, http.StatusOK, "flow", v)

	case "verify":
		if ch := form.Get("send"); ch != "" { // "Send code"
			fv.Method = ch
			sent, err := s.app.SendCode(ctx, p, def.Purpose, ch)
			if err != nil {
				return fail("verify", "code", err)
			}
			fv.SentTo, fv.ResendAfter = sent.SentTo, int(sent.ResendAfter.Seconds())
			v.Notice = v.T("flow.code_sent", "To", sent.SentTo)
			return s.render(w, r, http.StatusOK, "flow", v)
		}
		t, err := s.app.Verify(ctx, p, app.VerifyInput{Purpose: def.Purpose, Method: fv.Method, Password: form.Get("password"), Code: form.Get("code")})
		if err != nil {
			field := "password"
			if fv.Method != atrium.MethodPassword {
				field = "code"
			}
			return fail("verify", field, err)
		}
		if def.Unlink {
			if action == "authenticator-off" {
				err = s.app.DisableAuthenticator(ctx, p, t.Ticket)
			} else {
				err = s.app.Unlink(ctx, p, def.Channel, t.Ticket)
			}
			if err != nil {
				return fail("verify", "", err)
			}
			return s.flowDone(w, r, action)
		}
		fv.Ticket, fv.Step = t.Ticket, "form"
		if action == "authenticator" {
			e, err := s.app.StartAuthenticator(ctx, p, t.Ticket)
			if err != nil {
				return fail("verify", "", err)
			}
			fv.QR, fv.OTPURL, fv.Secret = template.URL(pngDataURL(e.QRPNG)), e.URL, e.Secret
		}
		return s.render(w, r, http.StatusOK, "flow", v)

	case "form":
		fv.Ticket = form.Get("ticket")
		switch action {
		case "username":
			if err := s.app.ChangeUsername(ctx, p, fv.Ticket, form.Get("username")); err != nil {
				return fail("form", "username", err)
			}
			s.clearSessionCookie(w)
			http.Redirect(w, r, "/login?reason=username_changed", http.StatusSeeOther)
			return nil
		case "password":
			if form.Get("new_password") != form.Get("confirm_password") {
				fv.Step = "form"
				v.Errors["confirm_password"] = v.T("password.mismatch")
				return s.render(w, r, http.StatusUnprocessableEntity, "flow", v)
			}
			if _, err := s.app.ChangePassword(ctx, p, fv.Ticket, form.Get("new_password")); err != nil {
				return fail("form", "new_password", err)
			}
		case "authenticator":
			fv.OTPURL, fv.Secret = form.Get("otpauth_url"), form.Get("secret")
			fv.QR = template.URL(pngDataURL(app.QRFor(fv.OTPURL)))
			codes, err := s.app.ConfirmAuthenticator(ctx, p, fv.Ticket, form.Get("code"))
			if err != nil {
				return fail("form", "code", err)
			}
			fv.Step, fv.Recovery = "recovery", codes
			return s.render(w, r, http.StatusOK, "flow", v)
		case "two-factor":
			on := form.Get("enable") == "true"
			fv.Enable = on
			if err := s.app.SetTwoFactor(ctx, p, fv.Ticket, on); err != nil {
				return fail("form", "", err)
			}
		case "email", "phone":
			fv.Address = strings.TrimSpace(form.Get("address"))
			sent, err := s.app.StartLink(ctx, p, def.Channel, fv.Ticket, fv.Address)
			if err != nil {
				return fail("form", "address", err)
			}
			fv.Step, fv.SentTo, fv.ResendAfter = "code", sent.SentTo, int(sent.ResendAfter.Seconds())
			v.Notice = v.T("flow.code_sent", "To", sent.SentTo)
			return s.render(w, r, http.StatusOK, "flow", v)
		}
		return s.flowDone(w, r, action)

	case "code": // the code sent to the new address
		fv.Ticket, fv.Address = form.Get("ticket"), form.Get("address")
		if err := s.app.ConfirmLink(ctx, p, def.Channel, form.Get("code")); err != nil {
			return fail("code", "code", err)
		}
		return s.flowDone(w, r, action)
	}
	return atrium.Errorf(atrium.EMalformed, "Bad form.")
}

// flowDone goes back to Personal Center with a short notice.
func (s *Server) flowDone(w http.ResponseWriter, r *http.Request, action string) error {
	http.Redirect(w, r, "/console/personal?notice="+action, http.StatusSeeOther)
	return nil
}

// errorText is the translated sentence for an error: the reasons of a weak
// password, the wait of a rate limit, the lock's end, or the code's sentence.
func (s *Server) errorText(v *view, err error) string {
	code := atrium.ErrorCode(err)
	d := atrium.ErrorDetails(err)
	switch code {
	case atrium.EWeakPassword:
		reasons, _ := d["reasons"].([]string)
		msgs := make([]string, 0, len(reasons))
		for _, reason := range reasons {
			msgs = append(msgs, v.T("password.reason."+reason))
		}
		return strings.Join(msgs, " ")
	case atrium.ERateLimited:
		secs, _ := d["retry_after"].(int)
		return v.T("error.rate_limited_wait", "Seconds", strconv.Itoa(secs))
	case atrium.EAccountLocked:
		until, _ := d["locked_until"].(time.Time)
		return v.T("error.account_locked", "Until", until.UTC().Format("2006-01-02 15:04:05 UTC"))
	case atrium.EInvalid:
		if reason, ok := d["reason"].(string); ok {
			return v.T("error.invalid." + reason)
		}
		if field, ok := d["field"].(string); ok {
			return v.T("error.invalid." + field)
		}
	case atrium.EConflict:
		if field, ok := d["field"].(string); ok {
			return v.T("error.conflict." + field)
		}
	}
	return v.T("error." + code)
}
