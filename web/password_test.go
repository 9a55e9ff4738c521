package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
)

func TestVerificationAndPassword(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("a ticket is refused for another purpose, another session, a second use or after 5 minutes", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			other, _ := e.login("alice", goodPassword)
			change := func(token, ticket, pw string) *resp {
				return e.do(req{Method: "PUT", Path: "/api/v1/me/password", Token: token, Body: map[string]any{"ticket": ticket, "new_password": pw}})
			}
			for _, c := range []struct {
				name  string
				token string
				tk    func() string
			}{
				{"another purpose", tok, func() string { return e.ticket(tok, "username", goodPassword) }},
				{"another session", tok, func() string { return e.ticket(other, "password", goodPassword) }},
				{"no ticket", tok, func() string { return "" }},
				{"a made-up ticket", tok, func() string { return "bm90LWEtdGlja2V0" }},
				{"after 5 minutes", tok, func() string {
					tk := e.ticket(tok, "password", goodPassword)
					e.clock.Advance(5*time.Minute + time.Second)
					return tk
				}},
			} {
				r := change(c.token, c.tk(), "Quiet-Harbor-5120")
				if r.Status != http.StatusForbidden || r.Code() != "ticket_invalid" {
					t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				}
			}
			// Nothing changed: the old password still signs in.
			e.login("alice", goodPassword)
			tok, _ = e.login("alice", goodPassword)
			tk := e.ticket(tok, "password", goodPassword)
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": "Quiet-Harbor-5120"}})
			if r := change(tok, tk, "Amber-Meadow-8841"); r.Code() != "ticket_invalid" {
				t.Fatalf("second use: %d %s", r.Status, r.Body)
			}
		})
		t.Run("a wrong password fails verification and counts toward the lock", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for i := range 5 {
				r := e.do(req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": "password", "method": "password", "password": "wrong"}})
				want := http.StatusUnauthorized
				if i == 4 {
					want = http.StatusLocked
				}
				if r.Status != want {
					t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
				}
			}
		})
		t.Run("verification refuses unknown purposes and methods", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for _, body := range []map[string]any{
				{"purpose": "everything", "method": "password", "password": goodPassword},
				{"purpose": "password", "method": "carrier-pigeon"},
			} {
				if r := e.do(req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: body}); r.Status != http.StatusUnprocessableEntity || r.Code() != "invalid" {
					t.Errorf("%v: %d %s", body, r.Status, r.Body)
				}
			}
		})
		t.Run("weak passwords are refused with reasons a person can act on", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for _, c := range []struct{ pw, reason string }{
				{"Ab1", "too_short"},
				{strings.Repeat("Xq7", 43), "too_long"},
				{"correcthorsebattery", "needs_digit"},
				{"Password123!", "common_password"},
				{"alice-Harbor-92", "contains_username"},
				{"ecila-Harbor-92", "contains_username"},
				{goodPassword, "reused"},
				{"Initial-Pass-9031", "reused"},
			} {
				tk := e.ticket(tok, "password", goodPassword)
				r := e.do(req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": c.pw}})
				reasons, _ := r.JSON()["reasons"].([]any)
				found := false
				for _, x := range reasons {
					found = found || x == c.reason
				}
				if r.Status != http.StatusUnprocessableEntity || r.Code() != "weak_password" || !found {
					t.Errorf("%q: %d %s, want reason %s", c.pw, r.Status, r.Body, c.reason)
				}
			}
			e.login("alice", goodPassword) // nothing changed
		})
		t.Run("lengths 8, 64 and 128 and emoji are accepted; a change at character 100 fails sign-in", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			long := "Hk3vN8qPz2LmW7cRt5YbD9xFj4GsA6uEo1KiV0nMe8QwZ3rTy2UpB5hCd7XlS9aJ" + "Ja9SlX7dCh5BpU2yTr3ZwQ8eMn0ViK1oEu6AsG4jFx9DbY5tRc7WmL2zPq8Nv3kH" // 128 characters
			current := goodPassword
			for _, pw := range []string{"Vq9#mKz2", "Hk3vN8qPz2LmW7cRt5YbD9xFj4GsA6uEo1KiV0nMe8QwZ3rTy2UpB5hCd7XlS9aJ", "Moon🌙Tide🌊42x", long} {
				tk := e.ticket(tok, "password", current)
				e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": pw}})
				current = pw
			}
			changed := long[:99] + "X" + long[100:]
			if r := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": changed}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("a different 100th character signed in: %d", r.Status)
			}
			e.login("alice", long)
		})
		t.Run("changing the password ends every other session", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			other, _ := e.login("alice", goodPassword)
			tk := e.ticket(tok, "password", goodPassword)
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": "Quiet-Harbor-5120"}})
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
			e.must(http.StatusUnauthorized, req{Path: "/api/v1/me", Token: other})
		})
	})
}
