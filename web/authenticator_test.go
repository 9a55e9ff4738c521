package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-console/atrium/atriumtest"
)

// enroll sets up the authenticator app and returns its secret and the
// recovery codes.
func (e *env) enroll(tok string) (string, []any) {
	e.t.Helper()
	tk := e.ticket(tok, "two_factor", goodPassword)
	r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/authenticator", Token: tok, Body: map[string]any{"ticket": tk}})
	secret := r.JSON()["secret"].(string)
	if r.JSON()["qr_png"] == nil || r.JSON()["otpauth_url"] == nil {
		e.t.Fatalf("enrollment %s", r.Body)
	}
	if r := e.do(req{Method: "POST", Path: "/api/v1/me/authenticator/confirm", Token: tok, Body: map[string]any{"ticket": tk, "code": "000000"}}); r.Status != http.StatusUnauthorized {
		e.t.Fatalf("wrong confirmation code: %d %s", r.Status, r.Body)
	}
	code, _ := totp.GenerateCode(secret, e.clock.Now())
	r = e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/authenticator/confirm", Token: tok, Body: map[string]any{"ticket": tk, "code": code}})
	codes := r.JSON()["recovery_codes"].([]any)
	return secret, codes
}

func (e *env) secondStep(identifier string) string {
	e.t.Helper()
	r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": identifier, "password": goodPassword}})
	if r.JSON()["status"] != "second_factor_required" || r.JSON()["method"] != "totp" {
		e.t.Fatalf("login %s", r.Body)
	}
	return r.JSON()["login_id"].(string)
}

func TestAuthenticatorApp(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("set up, sign in with its codes once each, recovery codes once, turn off", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			secret, recovery := e.enroll(tok)
			if len(recovery) != 10 {
				t.Fatalf("recovery codes %v", recovery)
			}
			me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON()
			if me["authenticator_enabled"] != true {
				t.Fatalf("me %v", me)
			}
			// The code used to confirm cannot sign in again (replay).
			e.clock.Advance(time.Second)
			id := e.secondStep("alice")
			code, _ := totp.GenerateCode(secret, e.clock.Now())
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": code}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("replayed code: %d %s", r.Status, r.Body)
			}
			e.clock.Advance(30 * time.Second)
			code, _ = totp.GenerateCode(secret, e.clock.Now())
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": code}})

			id = e.secondStep("alice")
			rc := recovery[0].(string)
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": rc}})
			id = e.secondStep("alice")
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": rc}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("recovery code reused: %d", r.Status)
			}

			// Verification by the app yields a ticket, then the app is turned off.
			e.clock.Advance(30 * time.Second)
			code, _ = totp.GenerateCode(secret, e.clock.Now())
			r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": "two_factor", "method": "totp", "code": code}})
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/authenticator/disable", Token: tok, Body: map[string]any{"ticket": r.JSON()["ticket"]}})
			e.login("alice", goodPassword)
		})
		t.Run("five wrong codes end a sign-in's tries", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			secret, _ := e.enroll(tok)
			e.clock.Advance(30 * time.Second)
			id := e.secondStep("alice")
			for range 5 {
				e.must(http.StatusUnauthorized, req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": "000000"}})
			}
			code, _ := totp.GenerateCode(secret, e.clock.Now())
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": id, "code": code}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("right code after 5 wrong: %d", r.Status)
			}
		})
		t.Run("it counts as dual-factor authentication for completeness", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			e.enroll(tok)
			c := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON()["completeness"].(map[string]any)
			if c["percent"] != float64(25) {
				t.Fatalf("completeness %v", c)
			}
		})
	})
}
