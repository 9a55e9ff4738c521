package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

// secondFactorView is the sign-in's second step.
type secondFactorView struct {
	LoginID     string
	Method      string // sms or totp
	SentTo      string
	ResendAfter int
	Next        string
}

// renderSecondFactor shows the SMS code step of a sign-in.
func (s *Server) renderSecondFactor(w http.ResponseWriter, r *http.Request, v *view, status int, d *secondFactorView) error {
	v.Title = v.T("login2.title")
	v.Data = d
	return s.render(w, r, status, "login2", v)
}

func (s *Server) postLoginSecondFactor(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v := s.newView(r, nil, "login2.title")
	d := &secondFactorView{LoginID: r.PostFormValue("login_id"), SentTo: r.PostFormValue("sent_to"), Next: safeNext(r.PostFormValue("next")), Method: r.PostFormValue("method")}
	if r.PostFormValue("send") != "" {
		sent, err := s.app.ResendLoginCode(r.Context(), d.LoginID, s.clientIP(r))
		if err != nil {
			if atrium.ErrorCode(err) == atrium.ESecondFactor {
				http.Redirect(w, r, "/login?reason=session_expired", http.StatusSeeOther)
				return nil
			}
			v.Errors["code"] = s.errorText(v, err)
			return s.renderSecondFactor(w, r, v, statusFor(atrium.ErrorCode(err)), d)
		}
		d.SentTo, d.ResendAfter = sent.SentTo, int(sent.ResendAfter.Seconds())
		v.Notice = v.T("flow.code_sent", "To", sent.SentTo)
		return s.renderSecondFactor(w, r, v, http.StatusOK, d)
	}
	res, err := s.app.LoginSecondFactor(r.Context(), d.LoginID, r.PostFormValue("code"), app.LoginInput{ClientIP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		if atrium.ErrorCode(err) == atrium.ESecondFactor || atrium.ErrorCode(err) == atrium.ERateLimited {
			v.Errors["code"] = s.errorText(v, err)
			return s.renderSecondFactor(w, r, v, statusFor(atrium.ErrorCode(err)), d)
		}
		return err
	}
	s.finishLogin(w, r, res, d.Next)
	return nil
}

// finishLogin sets the session cookie and goes on: to the page that clears the
// first pending action, to next, or to the console.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, res *app.LoginResult, next string) {
	s.setCookie(w, s.sessionCookieName(), res.Token, res.Principal.Session.ExpiresAt)
	target := s.pendingPage(res.Principal)
	if target == "" {
		if target = next; target == "" {
			target = "/console"
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// recoveryView is the "Forgot password" page's data.
type recoveryView struct {
	Step        string // request or reset
	Channel     string
	Identifier  string
	ResendAfter int
	Rules       []string
}

func (s *Server) pageRecovery(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, nil, "recovery.title")
	v.Data = &recoveryView{Step: "request", Channel: atrium.MethodSMS}
	return s.render(w, r, http.StatusOK, "recovery", v)
}

func (s *Server) postRecovery(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	v := s.newView(r, nil, "recovery.title")
	d := &recoveryView{Step: "request", Channel: r.PostFormValue("channel"), Identifier: strings.TrimSpace(r.PostFormValue("identifier")),
		Rules: []string{"length", "letter_digit", "no_name", "not_common", "not_reused"}}
	if !slices.Contains([]string{atrium.MethodSMS, atrium.MethodEmail}, d.Channel) {
		d.Channel = atrium.MethodSMS
	}
	v.Data = d
	v.Form["identifier"] = d.Identifier
	if r.PostFormValue("step") == "reset" && r.PostFormValue("send") == "" {
		d.Step = "reset"
		if r.PostFormValue("new_password") != r.PostFormValue("confirm_password") {
			v.Errors["confirm_password"] = v.T("password.mismatch")
			return s.render(w, r, http.StatusUnprocessableEntity, "recovery", v)
		}
		err := s.app.Recover(r.Context(), d.Identifier, r.PostFormValue("code"), r.PostFormValue("new_password"), s.clientIP(r))
		if err != nil {
			field := "code"
			if atrium.ErrorCode(err) == atrium.EWeakPassword {
				field = "new_password"
			} else if atrium.ErrorCode(err) != atrium.EVerificationFailed {
				return err
			}
			v.Errors[field] = s.errorText(v, err)
			return s.render(w, r, statusFor(atrium.ErrorCode(err)), "recovery", v)
		}
		http.Redirect(w, r, "/login?reason=password_reset", http.StatusSeeOther)
		return nil
	}
	if d.Identifier == "" {
		v.Errors["identifier"] = v.T("recovery.identifier_required")
		return s.render(w, r, http.StatusUnprocessableEntity, "recovery", v)
	}
	if err := s.app.RequestRecovery(r.Context(), d.Identifier, d.Channel, s.clientIP(r)); err != nil {
		return err
	}
	d.Step, d.ResendAfter = "reset", int(s.app.Config.CodeResend.Seconds())
	v.Notice = v.T("recovery.sent_" + d.Channel)
	return s.render(w, r, http.StatusOK, "recovery", v)
}
