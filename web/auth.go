package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

// gate says whether a route answers while the session has pending actions.
type gate int

const (
	gated    gate = iota // only without pending actions
	ungated              // also with pending actions: the routes that clear them
	agreeing             // while agreements are pending (only the sign_agreements gate is cleared here)
)

// apiHandler is a JSON route of a signed-in account.
type apiHandler func(w http.ResponseWriter, r *http.Request, p *app.Principal) error

// publicAPI is a JSON route without a session.
type publicAPI func(w http.ResponseWriter, r *http.Request) error

func (s *Server) sessionCookieName() string {
	if s.cfg.SecureCookies {
		return "__Host-atrium_session"
	}
	return "atrium_session"
}

// sessionToken returns the bearer token or, failing that, the session cookie.
func (s *Server) sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie(s.sessionCookieName()); err == nil {
		return c.Value
	}
	return ""
}

// principal authenticates the request; EUnauthorized if it has no live session.
func (s *Server) principal(r *http.Request) (*app.Principal, error) {
	return s.app.Authenticate(r.Context(), s.sessionToken(r), s.clientIP(r))
}

// checkGate answers EActionRequired with the pending list when the route may not
// answer yet.
func (s *Server) checkGate(p *app.Principal, g gate) error {
	if g == ungated {
		return nil
	}
	pending := s.app.Pending(p)
	if len(pending) == 0 {
		return nil
	}
	if g == agreeing && !slices.Contains(pending, atrium.PendingSignAgreements) {
		return nil
	}
	return atrium.Errorf(atrium.EActionRequired, "Complete the pending actions first.").With("pending", pending)
}

// api wraps a signed-in JSON route.
func (s *Server) api(g gate, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkJSON(r); err != nil {
			s.writeProblem(w, r, err)
			return
		}
		p, err := s.principal(r)
		if err == nil {
			err = s.checkGate(p, g)
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

// public wraps a JSON route that needs no session.
func (s *Server) public(h publicAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.checkJSON(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

// operator wraps an operator API route.
func (s *Server) operator(h publicAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.checkJSON(r)
		if err == nil {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			err = s.app.AuthenticateOperator(r.Context(), s.cfg.OperatorToken, strings.TrimSpace(tok))
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

// checkJSON refuses a request body that is not application/json with
// EUnsupportedMedia: a JSON route never reads a form or text/plain, which a
// cross-site page could send without a preflight.
func (s *Server) checkJSON(r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return atrium.Errorf(atrium.EUnsupportedMedia, "Send the body as application/json.")
	}
	return nil
}

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decode reads a JSON body into v, refusing unknown fields, trailing data and
// bodies over limit bytes.
func decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return atrium.Errorf(atrium.ETooLarge, "The request body is larger than %d bytes.", limit)
		}
		if errors.Is(err, io.EOF) {
			return atrium.Errorf(atrium.EMalformed, "The request body is empty; send a JSON object.")
		}
		return atrium.Errorf(atrium.EMalformed, "The request body is not valid JSON for this route: %s.", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return atrium.Errorf(atrium.EMalformed, "The request body has data after the JSON object.")
	}
	return nil
}

// jsonErrorText describes a decoding error without echoing the input.
func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return "field " + typeErr.Field + " has the wrong type"
	case errors.As(err, &syntaxErr):
		return "syntax error"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "unexpected content"
}
