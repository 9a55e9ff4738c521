package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/atrium-console/atrium"
)

// statusOf is the single table from error code to HTTP status.
var statusOf = map[string]int{
	atrium.EInvalid:            http.StatusUnprocessableEntity,
	atrium.EMalformed:          http.StatusBadRequest,
	atrium.ENotFound:           http.StatusNotFound,
	atrium.EConflict:           http.StatusConflict,
	atrium.EUsernameTaken:      http.StatusConflict,
	atrium.EAgreementOutdated:  http.StatusConflict,
	atrium.EUnauthorized:       http.StatusUnauthorized,
	atrium.EInvalidCredentials: http.StatusUnauthorized,
	atrium.EVerificationFailed: http.StatusUnauthorized,
	atrium.ESecondFactor:       http.StatusUnauthorized,
	atrium.EForbidden:          http.StatusForbidden,
	atrium.EPhoneRequired:      http.StatusConflict,
	atrium.ENotLinked:          http.StatusUnprocessableEntity,
	atrium.EDeletionBlocked:    http.StatusConflict,
	atrium.ETermsNotAccepted:   http.StatusUnprocessableEntity,
	atrium.EActionRequired:     http.StatusForbidden,
	atrium.ETicketInvalid:      http.StatusForbidden,
	atrium.EAccountLocked:      http.StatusLocked,
	atrium.EWeakPassword:       http.StatusUnprocessableEntity,
	atrium.ERateLimited:        http.StatusTooManyRequests,
	atrium.ETooLarge:           http.StatusRequestEntityTooLarge,
	atrium.EUnsupportedMedia:   http.StatusUnsupportedMediaType,
	atrium.EUnsupportedImage:   http.StatusUnsupportedMediaType,
	atrium.EUnavailable:        http.StatusServiceUnavailable,
	atrium.EInternal:           http.StatusInternalServerError,
}

// titles are the problem titles per status.
func statusFor(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// problem is an RFC 9457 problem document; details are merged in as extension
// members.
func problemBody(err error) (int, map[string]any) {
	code := atrium.ErrorCode(err)
	status := statusFor(code)
	body := map[string]any{}
	for k, v := range atrium.ErrorDetails(err) {
		body[k] = v
	}
	body["type"] = "urn:atrium:problem:" + code
	body["title"] = http.StatusText(status)
	body["status"] = status
	body["detail"] = atrium.ErrorMessage(err)
	body["code"] = code
	return status, body
}

// writeProblem answers err as application/problem+json. An error without a code
// is logged with its details and answered as a bare 500.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = atrium.Errorf(atrium.ETooLarge, "The request body is larger than %d bytes.", maxErr.Limit)
	}
	if atrium.ErrorCode(err) == atrium.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("error", err.Error()), slog.String("request_id", requestID(r)))
	}
	status, body := problemBody(err)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		s.log.InfoContext(r.Context(), "access refused", slog.String("code", atrium.ErrorCode(err)), slog.String("path", r.URL.Path), slog.String("request_id", requestID(r)))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
