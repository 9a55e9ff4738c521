package web

import (
	"net/http"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

// uploadView is the upload page of the profile picture or the enterprise logo.
type uploadView struct {
	What    string // avatar or logo
	Current string // URL of the current image
	Action  string
}

func (s *Server) uploadData(r *http.Request, p *app.Principal, what string) (*uploadView, error) {
	d := &uploadView{What: what, Action: "/console/avatar", Current: app.ImageURL(p.Account.AvatarID)}
	if what == "logo" {
		m, err := s.app.MSP(r.Context(), p)
		if err != nil {
			return nil, err
		}
		if !p.Account.IsMSPOwner() {
			return nil, atrium.Errorf(atrium.EForbidden, "Only the top-level account of the MSP can change its information.")
		}
		d.Action, d.Current = "/console/msp/logo", app.ImageURL(m.LogoID)
	}
	return d, nil
}

func (s *Server) pageUpload(what string) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
		d, err := s.uploadData(r, p, what)
		if err != nil {
			return err
		}
		v := s.newView(r, p, "upload."+what)
		v.Data = d
		return s.render(w, r, http.StatusOK, "upload", v)
	}
}

func (s *Server) postUpload(what string) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
		d, err := s.uploadData(r, p, what)
		if err != nil {
			return err
		}
		v := s.newView(r, p, "upload."+what)
		v.Data = d
		body, err := formImage(w, r)
		if err == nil {
			if what == "logo" {
				_, err = s.app.SetLogo(r.Context(), p, body)
			} else {
				_, err = s.app.SetAvatar(r.Context(), p, body)
			}
		}
		if err != nil {
			switch atrium.ErrorCode(err) {
			case atrium.ETooLarge, atrium.EUnsupportedImage, atrium.EMalformed:
				// The pipeline's English sentences say exactly what is wrong
				// (the size, the dimensions); other languages get the code's.
				if v.Errors["image"] = v.T("error." + atrium.ErrorCode(err)); v.Lang == "en" {
					v.Errors["image"] = atrium.ErrorMessage(err)
				}
				return s.render(w, r, statusFor(atrium.ErrorCode(err)), "upload", v)
			}
			return err
		}
		http.Redirect(w, r, "/console/personal?notice="+what, http.StatusSeeOther)
		return nil
	}
}

// postMSP saves one field of the MSP information, edited in place.
func (s *Server) postMSP(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	field, value := r.PostFormValue("field"), r.PostFormValue("value")
	var patch app.MSPPatch
	switch field {
	case "name":
		patch.Name = &value
	case "industry":
		patch.Industry = &value
	case "address":
		patch.Address = &value
	case "phone":
		patch.Phone = &value
	default:
		return atrium.Errorf(atrium.EMalformed, "Bad form.")
	}
	if _, err := s.app.UpdateMSP(r.Context(), p, patch); err != nil {
		if atrium.ErrorCode(err) != atrium.EInvalid {
			return err
		}
		v := s.newView(r, p, "personal.title")
		v.Errors["msp_"+field] = s.errorText(v, err)
		v.Form["msp_"+field] = value
		return s.renderPersonal(w, r, p, v, http.StatusUnprocessableEntity)
	}
	http.Redirect(w, r, "/console/personal?notice=msp#msp-information", http.StatusSeeOther)
	return nil
}

func (s *Server) consoleExport(w http.ResponseWriter, r *http.Request, p *app.Principal) error {
	err := s.apiExport(w, r, p)
	if atrium.ErrorCode(err) == atrium.ERateLimited {
		v := s.newView(r, p, "personal.title")
		v.Error = s.errorText(v, err)
		return s.renderPersonal(w, r, p, v, http.StatusTooManyRequests)
	}
	return err
}
