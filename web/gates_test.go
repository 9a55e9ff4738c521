package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
)

func TestGates(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("the first sign-in must sign agreements, then change the initial password", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			tok, pending := e.login("alice", "Initial-Pass-9031")
			if fmt.Sprint(pending) != "[sign_agreements change_password]" {
				t.Fatalf("pending %v", pending)
			}
			// While anything is pending, only the routes that clear it answer.
			for _, q := range []req{
				{Path: "/api/v1/me/signings"},
				{Path: "/api/v1/me/sessions"},
				{Path: "/api/v1/me/events"},
			} {
				q.Token = tok
				r := e.do(q)
				if r.Status != http.StatusForbidden || r.Code() != "action_required" || fmt.Sprint(r.JSON()["pending"]) != "[sign_agreements change_password]" {
					t.Errorf("%s: %d %s", q.Path, r.Status, r.Body)
				}
			}
			// The password cannot be changed before the agreements are signed.
			if r := e.do(req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": "password", "method": "password", "password": "Initial-Pass-9031"}}); r.Code() != "action_required" {
				t.Fatalf("verification before signing: %d %s", r.Status, r.Body)
			}
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
			e.signAll(tok)
			if r := e.do(req{Path: "/api/v1/me/signings", Token: tok}); fmt.Sprint(r.JSON()["pending"]) != "[change_password]" {
				t.Fatalf("after signing: %s", r.Body)
			}
			tk := e.ticket(tok, "password", "Initial-Pass-9031")
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})
			r := e.must(http.StatusOK, req{Path: "/api/v1/me/signings", Token: tok})
			var rows []map[string]any
			jsonUnmarshal(r.Body, &rows)
			if len(rows) != 2 || rows[0]["scenario"] != "first_login" || rows[1]["scenario"] != "first_login" {
				t.Fatalf("signings %s", r.Body)
			}
			if me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON(); len(me["pending"].([]any)) != 0 {
				t.Fatalf("still pending: %v", me["pending"])
			}
		})
		t.Run("a new agreement version makes every account sign again", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/agreements", Token: operatorToken, Body: map[string]any{"type": "privacy_statement", "version": 2, "title": "Privacy Statement", "body": "New text."}})
			r := e.do(req{Path: "/api/v1/me/signings", Token: tok})
			if r.Code() != "action_required" || fmt.Sprint(r.JSON()["pending"]) != "[sign_agreements]" {
				t.Fatalf("after publishing: %d %s", r.Status, r.Body)
			}
			// Signing the old version is refused.
			if r := e.do(req{Method: "POST", Path: "/api/v1/agreements/sign", Token: tok, Body: map[string]any{"agreements": []any{map[string]any{"type": "privacy_statement", "version": 1}}}}); r.Status != http.StatusConflict || r.Code() != "agreement_outdated" {
				t.Fatalf("old version: %d %s", r.Status, r.Body)
			}
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/agreements/sign", Token: tok, Body: map[string]any{"agreements": []any{map[string]any{"type": "privacy_statement", "version": 2}}}})
			r = e.must(http.StatusOK, req{Path: "/api/v1/me/signings", Token: tok})
			var rows []map[string]any
			jsonUnmarshal(r.Body, &rows)
			if len(rows) != 3 || rows[0]["scenario"] != "agreement_update" || rows[0]["version"] != float64(2) {
				t.Fatalf("signings %s", r.Body)
			}
		})
		t.Run("a new version of the deletion terms does not stop anyone", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/agreements", Token: operatorToken, Body: map[string]any{"type": "deletion_terms", "version": 2, "title": "Deletion", "body": "Text."}})
			e.must(http.StatusOK, req{Path: "/api/v1/me/signings", Token: tok})
		})
		t.Run("an expired password must be changed", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.ready("alice")
			e.clock.Advance(90 * 24 * time.Hour)
			tok, pending := e.login("alice", goodPassword)
			if fmt.Sprint(pending) != "[change_password]" {
				t.Fatalf("pending %v", pending)
			}
			e.must(http.StatusForbidden, req{Path: "/api/v1/me/sessions", Token: tok})
			tk := e.ticket(tok, "password", goodPassword)
			r := e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": "Quiet-Harbor-5120"}})
			want := e.clock.Now().Add(90 * 24 * time.Hour).Format("2006-01-02T15:04:05")
			if got, _ := r.JSON()["password_expires_at"].(string); len(got) < 19 || got[:19] != want {
				t.Fatalf("password_expires_at %q, want %s", got, want)
			}
			e.must(http.StatusOK, req{Path: "/api/v1/me/sessions", Token: tok})
		})
	})
}
