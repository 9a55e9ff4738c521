package web

import (
	"net/http"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

func (s *Server) apiDeletionChecks(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	rep, err := s.app.DeletionChecks(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK, "blocking": rep.Blocking})
	return nil
}

type deletionRequest struct {
	Ticket      string `json:"ticket"`
	AcceptTerms bool   `json:"accept_terms"`
}

func (s *Server) apiDeleteMSP(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	var req deletionRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		return err
	}
	if err := s.app.DeleteMSP(r.Context(), p, req.Ticket, req.AcceptTerms); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true})
	return nil
}

func (s *Server) adminAddHolding(w http.ResponseWriter, r *http.Request) error {
	var in app.HoldingInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	h, err := s.app.AddHolding(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": h.ID, "msp_id": h.MSPID, "kind": h.Kind, "ref": h.Ref})
	return nil
}

func (s *Server) adminRemoveHolding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.app.RemoveHolding(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteView is the data of the console's deletion steps: precautions →
// terms → verify identity → checks → deleted.
type deleteView struct {
	Step     string // precautions, terms, verify, checks
	Terms    *atrium.Agreement
	Methods  []flowMethod
	Method   string
	Ticket   string
	Report   *app.DeletionReport
	SentTo   string
	Resend   int
	Accepted bool
}

func (s *Server) deleteData(r *http.Request, p *app.Principal) (*view, *deleteView, error) {
	if !p.Account.IsMSPOwner() {
		return nil, nil, atrium.Errorf(atrium.EForbidden, "Only the top-level account of the MSP can delete it.")
	}
	v := s.newView(r, p, "delete.title")
	d := &deleteView{Step: "precautions", Methods: s.flowMethods(p.Account), Method: atrium.MethodPassword}
	v.Data = d
	return v, d, nil
}

func (s *Server) pageDelete(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v, _, err := s.deleteData(r, p)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "delete", v)
}

func (s *Server) postDelete(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	v, d, err := s.deleteData(r, p)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	ctx := r.Context()
	form := r.PostForm
	showTerms := func(status int) error {
		t, err := s.app.Agreement(ctx, atrium.AgreementDeletion)
		if err != nil {
			return err
		}
		d.Step, d.Terms = "terms", t
		return s.render(w, r, status, "delete", v)
	}
	switch form.Get("step") {
	case "precautions":
		return showTerms(http.StatusOK)
	case "terms":
		if form.Get("agree") != "yes" {
			v.Errors["agree"] = v.T("delete.must_agree")
			return showTerms(http.StatusUnprocessableEntity)
		}
		d.Step = "verify"
		return s.render(w, r, http.StatusOK, "delete", v)
	case "verify":
		d.Step = "verify"
		if d.Method = form.Get("method"); d.Method == "" {
			d.Method = atrium.MethodPassword
		}
		if ch := form.Get("send"); ch != "" {
			d.Method = ch
			sent, err := s.app.SendCode(ctx, p, atrium.PurposeDeleteAccount, ch)
			if err != nil {
				if atrium.ErrorCode(err) == atrium.EInternal {
					return err
				}
				v.Errors["code"] = s.errorText(v, err)
				return s.render(w, r, statusFor(atrium.ErrorCode(err)), "delete", v)
			}
			d.SentTo, d.Resend = sent.SentTo, int(sent.ResendAfter.Seconds())
			v.Notice = v.T("flow.code_sent", "To", sent.SentTo)
			return s.render(w, r, http.StatusOK, "delete", v)
		}
		t, err := s.app.Verify(ctx, p, app.VerifyInput{Purpose: atrium.PurposeDeleteAccount, Method: d.Method, Password: form.Get("password"), Code: form.Get("code")})
		if err != nil {
			if atrium.ErrorCode(err) == atrium.EInternal {
				return err
			}
			field := "password"
			if d.Method != atrium.MethodPassword {
				field = "code"
			}
			v.Errors[field] = s.errorText(v, err)
			return s.render(w, r, statusFor(atrium.ErrorCode(err)), "delete", v)
		}
		d.Ticket = t.Ticket
		return s.showChecks(w, r, p, v, d)
	case "checks": // check again
		d.Ticket = form.Get("ticket")
		return s.showChecks(w, r, p, v, d)
	case "delete":
		d.Ticket = form.Get("ticket")
		err := s.app.DeleteMSP(ctx, p, d.Ticket, true)
		switch atrium.ErrorCode(err) {
		case "":
			s.clearSessionCookie(w)
			http.Redirect(w, r, "/login?reason=account_deleted", http.StatusSeeOther)
			return nil
		case atrium.EDeletionBlocked:
			return s.showChecks(w, r, p, v, d)
		case atrium.ETicketInvalid:
			d.Step = "verify"
			v.Error = v.T("error.ticket_invalid")
			return s.render(w, r, http.StatusForbidden, "delete", v)
		}
		return err
	}
	return atrium.Errorf(atrium.EMalformed, "Bad form.")
}

func (s *Server) showChecks(w http.ResponseWriter, r *http.Request, p *app.Principal, v *view, d *deleteView) error {
	rep, err := s.app.DeletionChecks(r.Context(), p)
	if err != nil {
		return err
	}
	d.Step, d.Report = "checks", rep
	return s.render(w, r, http.StatusOK, "delete", v)
}
