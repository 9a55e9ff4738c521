package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes registers every route of Atrium.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// JSON API of signed-in accounts. The gate says which routes answer while the
	// session has pending actions (see SPEC "Sign-in").
	mux.Handle("POST /api/v1/login", s.public(s.apiLogin))
	mux.Handle("POST /api/v1/login/second-factor", s.public(s.apiLoginSecondFactor))
	mux.Handle("POST /api/v1/login/second-factor/code", s.public(s.apiLoginResendCode))
	mux.Handle("POST /api/v1/recovery/codes", s.public(s.apiRecoveryCode))
	mux.Handle("POST /api/v1/recovery", s.public(s.apiRecover))
	mux.Handle("POST /api/v1/logout", s.api(ungated, s.apiLogout))
	mux.Handle("GET /api/v1/me", s.api(ungated, s.apiMe))
	mux.Handle("POST /api/v1/verifications", s.api(agreeing, s.apiVerify))
	mux.Handle("POST /api/v1/verifications/codes", s.api(agreeing, s.apiSendCode))
	mux.Handle("PUT /api/v1/me/password", s.api(agreeing, s.apiChangePassword))
	mux.Handle("PUT /api/v1/me/username", s.api(gated, s.apiChangeUsername))
	for _, what := range []string{"email", "phone"} {
		mux.Handle("POST /api/v1/me/"+what, s.api(gated, s.apiStartLink(what)))
		mux.Handle("POST /api/v1/me/"+what+"/confirm", s.api(gated, s.apiConfirmLink(what)))
		mux.Handle("POST /api/v1/me/"+what+"/unlink", s.api(gated, s.apiUnlink(what)))
	}
	mux.Handle("PUT /api/v1/me/two-factor", s.api(gated, s.apiTwoFactor))
	mux.Handle("POST /api/v1/me/authenticator", s.api(gated, s.apiStartAuthenticator))
	mux.Handle("POST /api/v1/me/authenticator/confirm", s.api(gated, s.apiConfirmAuthenticator))
	mux.Handle("POST /api/v1/me/authenticator/disable", s.api(gated, s.apiDisableAuthenticator))
	mux.Handle("PUT /api/v1/me/avatar", s.apiUpload(s.apiAvatar))
	mux.Handle("GET /api/v1/me/export", s.api(gated, s.apiExport))
	mux.Handle("GET /api/v1/msp", s.api(gated, s.apiMSP))
	mux.Handle("PATCH /api/v1/msp", s.api(gated, s.apiPatchMSP))
	mux.Handle("PUT /api/v1/msp/logo", s.apiUpload(s.apiLogo))
	mux.Handle("GET /api/v1/msp/deletion-checks", s.api(gated, s.apiDeletionChecks))
	mux.Handle("POST /api/v1/msp/deletion", s.api(gated, s.apiDeleteMSP))
	mux.Handle("GET /api/v1/agreements", s.api(ungated, s.apiAgreements))
	mux.Handle("GET /api/v1/agreements/{type}", s.api(ungated, s.apiAgreement))
	mux.Handle("POST /api/v1/agreements/sign", s.api(ungated, s.apiSign))
	mux.Handle("GET /api/v1/me/signings", s.api(gated, s.apiSignings))
	mux.Handle("GET /api/v1/me/sessions", s.api(gated, s.apiSessions))
	mux.Handle("DELETE /api/v1/me/sessions/{id}", s.api(gated, s.apiRevokeSession))
	mux.Handle("GET /api/v1/me/events", s.api(gated, s.apiEvents))
	mux.Handle("/api/", s.public(s.apiNotFound))

	// Operator API.
	mux.Handle("POST /admin/v1/msps", s.operator(s.adminCreateMSP))
	mux.Handle("POST /admin/v1/msps/{id}/accounts", s.operator(s.adminCreateMember))
	mux.Handle("PUT /admin/v1/msps/{id}/authentication", s.operator(s.adminSetAuthenticated))
	mux.Handle("POST /admin/v1/tenants", s.operator(s.adminCreateTenant))
	mux.Handle("POST /admin/v1/agencies", s.operator(s.adminCreateAgency))
	mux.Handle("DELETE /admin/v1/agencies/{id}", s.operator(s.adminDeleteAgency))
	mux.Handle("POST /admin/v1/agreements", s.operator(s.adminPublishAgreement))
	mux.Handle("GET /admin/v1/events", s.operator(s.adminEvents))
	mux.Handle("POST /admin/v1/notifications", s.operator(s.adminNotify))
	mux.Handle("GET /admin/v1/messages", s.operator(s.adminMessages))
	mux.Handle("POST /admin/v1/holdings", s.operator(s.adminAddHolding))
	mux.Handle("DELETE /admin/v1/holdings/{id}", s.operator(s.adminRemoveHolding))
	mux.Handle("/admin/", s.operator(s.apiNotFound))

	// Console.
	mux.Handle("GET /{$}", s.page(s.pageRoot))
	mux.Handle("GET /login", s.page(s.pageLogin))
	mux.Handle("POST /login", s.page(s.postLogin))
	mux.Handle("POST /logout", s.page(s.postLogout))
	mux.Handle("POST /language", s.page(s.postLanguage))
	mux.Handle("GET /agreements/sign", s.console(agreeingPage, s.pageSignAgreements))
	mux.Handle("POST /agreements/sign", s.console(agreeingPage, s.postSignAgreements))
	mux.Handle("GET /agreements/{type}", s.page(s.pageAgreement))
	mux.Handle("GET /password/change", s.console(passwordPage, s.pageChangePassword))
	mux.Handle("POST /password/change", s.console(passwordPage, s.postChangePassword))
	mux.Handle("GET /console", s.console(gatedPage, s.pageConsole))
	mux.Handle("GET /console/personal", s.console(gatedPage, s.pagePersonal))
	mux.Handle("GET /console/change/{action}", s.console(gatedPage, s.pageFlow))
	mux.Handle("POST /console/change/{action}", s.console(gatedPage, s.postFlow))
	mux.Handle("POST /login/second-factor", s.page(s.postLoginSecondFactor))
	mux.Handle("GET /recovery", s.page(s.pageRecovery))
	mux.Handle("POST /recovery", s.page(s.postRecovery))
	mux.Handle("POST /console/sessions/{id}/revoke", s.console(gatedPage, s.postRevokeSession))
	mux.Handle("GET /console/avatar", s.console(gatedPage, s.pageUpload("avatar")))
	mux.Handle("POST /console/avatar", s.console(gatedPage, s.postUpload("avatar")))
	mux.Handle("GET /console/msp/logo", s.console(gatedPage, s.pageUpload("logo")))
	mux.Handle("POST /console/msp/logo", s.console(gatedPage, s.postUpload("logo")))
	mux.Handle("POST /console/msp", s.console(gatedPage, s.postMSP))
	mux.Handle("GET /console/export", s.console(gatedPage, s.consoleExport))
	mux.Handle("GET /console/delete", s.console(gatedPage, s.pageDelete))
	mux.Handle("POST /console/delete", s.console(gatedPage, s.postDelete))
	mux.Handle("GET /images/{id}", http.HandlerFunc(s.serveImage))
	mux.Handle("GET /static/{hash}/{name}", http.HandlerFunc(s.assets.serve))
	mux.Handle("/", s.page(s.pageNotFound))

	// Development only: what a real deployment would have sent.
	if s.cfg.Development && s.cfg.Outbox != nil {
		mux.Handle("GET /dev/outbox", s.page(s.devOutbox))
	}

	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metricsAuth(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	return s.frame(csrf.Handler(mux))
}
