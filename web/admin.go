package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

func createdJSON(c *app.Created) map[string]any {
	owner := map[string]any{"id": c.Owner.ID, "username": c.Owner.Username}
	if c.InitialPassword != "" {
		owner["initial_password"] = c.InitialPassword
	}
	out := map[string]any{"owner": owner}
	if c.MSP != nil {
		out["msp"] = mspJSON(c.MSP)
	}
	if c.Tenant != nil {
		out["tenant"] = map[string]any{"id": c.Tenant.ID, "name": c.Tenant.Name, "created_at": c.Tenant.CreatedAt}
	}
	return out
}

func mspJSON(m *atrium.MSP) map[string]any {
	return map[string]any{"id": m.ID, "name": m.Name, "industry": m.Industry, "address": m.Address, "phone": m.Phone, "authenticated": m.Authenticated, "created_at": m.CreatedAt}
}

func (s *Server) adminCreateMSP(w http.ResponseWriter, r *http.Request) error {
	var in app.MSPInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	c, err := s.app.CreateMSP(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdJSON(c))
	return nil
}

func (s *Server) adminCreateMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in app.OwnerInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	c, err := s.app.CreateMember(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdJSON(c))
	return nil
}

func (s *Server) adminSetAuthenticated(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Authenticated *bool `json:"authenticated"`
	}
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	if in.Authenticated == nil {
		return atrium.Errorf(atrium.EInvalid, "authenticated (true or false) is required.").With("field", "authenticated")
	}
	if err := s.app.SetMSPAuthenticated(r.Context(), id, *in.Authenticated); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "authenticated": *in.Authenticated})
	return nil
}

func (s *Server) adminCreateTenant(w http.ResponseWriter, r *http.Request) error {
	var in app.TenantInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	c, err := s.app.CreateTenant(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdJSON(c))
	return nil
}

func (s *Server) adminCreateAgency(w http.ResponseWriter, r *http.Request) error {
	var in app.AgencyInput
	if err := decode(w, r, &in, maxJSONBody); err != nil {
		return err
	}
	ag, err := s.app.CreateAgency(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": ag.ID, "tenant_id": ag.TenantID, "msp_id": ag.MSPID, "created_at": ag.CreatedAt, "expires_at": ag.ExpiresAt})
	return nil
}

func (s *Server) adminDeleteAgency(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.app.DeleteAgency(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminPublishAgreement(w http.ResponseWriter, r *http.Request) error {
	var in app.AgreementInput
	if err := decode(w, r, &in, 2<<20); err != nil {
		return err
	}
	ag, err := s.app.PublishAgreement(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": ag.ID, "type": ag.Type, "version": ag.Version, "title": ag.Title, "published_at": ag.PublishedAt})
	return nil
}

// adminEvents answers GET /admin/v1/events?account_id=&msp_id=&action=&since=&until=&before_id=&limit=.
func (s *Server) adminEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f atrium.EventFilter
	var err error
	bad := func(field string) error {
		return atrium.Errorf(atrium.EInvalid, "The %s filter is not valid.", field).With("field", field)
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"account_id", &f.AccountID}, {"msp_id", &f.MSPID}, {"before_id", &f.BeforeID}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = strconv.ParseInt(v, 10, 64); err != nil || *p.dst < 0 {
				return bad(p.name)
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 0 {
			return bad("limit")
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return bad(p.name)
			}
		}
	}
	f.Action = q.Get("action")
	list, err := s.app.OperatorEvents(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": eventsJSON(list)})
	return nil
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) error {
	return atrium.Errorf(atrium.ENotFound, "There is no such route.")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.app.DB.Ping(r.Context()); err != nil {
		s.writeProblem(w, r, atrium.Errorf(atrium.EUnavailable, "The database does not answer."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.writeProblem(w, r, atrium.Errorf(atrium.EForbidden, "Cross-origin request refused."))
}

// metricsAuth guards /metrics with Config.MetricsToken when one is set.
func (s *Server) metricsAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.MetricsToken != "" {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) != 1 {
				s.writeProblem(w, r, atrium.Errorf(atrium.EUnauthorized, "A valid metrics token is required."))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
