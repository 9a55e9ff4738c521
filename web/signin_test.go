package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
)

func TestSignIn(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("signs in by username in any case, by email and by phone", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "Alice", "Initial-Pass-9031", map[string]any{"email": "alice@example.com", "phone": "+86 138 0013 8000"})
			for _, id := range []string{"Alice", "alice", "ALICE@example.com", "+8613800138000", "+86 138-0013-8000"} {
				r := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": id, "password": "Initial-Pass-9031"}})
				if r.Status != http.StatusOK || r.JSON()["status"] != "authenticated" {
					t.Errorf("%q: %d %s", id, r.Status, r.Body)
				}
			}
		})
		t.Run("an unknown identifier and a wrong password get the same answer", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			unknown := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "nobody", "password": "Initial-Pass-9031"}})
			wrong := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "Wrong-Pass-0000"}})
			if unknown.Status != http.StatusUnauthorized || wrong.Status != unknown.Status || string(wrong.Body) != string(unknown.Body) {
				t.Fatalf("unknown: %d %s\nwrong: %d %s", unknown.Status, unknown.Body, wrong.Status, wrong.Body)
			}
			if unknown.Code() != "invalid_credentials" {
				t.Fatalf("code %q", unknown.Code())
			}
		})
		t.Run("locks after five failures from any address, until ten minutes pass", func(t *testing.T) {
			e := newEnv(t, dialect, withProxies("127.0.0.1/32"))
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			for i := range 4 {
				r := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "wrong"}, Header: map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+i))}})
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i+1, r.Status)
				}
			}
			r := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "wrong"}})
			if r.Status != http.StatusLocked || r.Code() != "account_locked" {
				t.Fatalf("fifth failure: %d %s", r.Status, r.Body)
			}
			want := e.clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
			if got, _ := r.JSON()["locked_until"].(string); !strings.HasPrefix(got, want[:19]) {
				t.Fatalf("locked_until %q, want %s", got, want)
			}
			e.clock.Advance(9*time.Minute + 59*time.Second)
			if r := e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "Initial-Pass-9031"}}); r.Status != http.StatusLocked {
				t.Fatalf("right password while locked: %d", r.Status)
			}
			e.clock.Advance(time.Second)
			e.login("alice", "Initial-Pass-9031")
			if !strings.Contains(e.logs.String(), `"account.lock"`) && !e.hasEvent("account.lock") {
				t.Fatal("no account.lock audit event")
			}
		})
		t.Run("a success resets the failure count", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			for range 4 {
				e.must(http.StatusUnauthorized, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "wrong"}})
			}
			e.login("alice", "Initial-Pass-9031")
			for range 4 {
				e.must(http.StatusUnauthorized, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "wrong"}})
			}
		})
		t.Run("every sign-in gets a new 256-bit token", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			a, _ := e.login("alice", "Initial-Pass-9031")
			b, _ := e.login("alice", "Initial-Pass-9031")
			if a == b || len(a) != 43 {
				t.Fatalf("tokens %q %q", a, b)
			}
		})
		t.Run("logout ends the session on the server", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			tok, _ := e.login("alice", "Initial-Pass-9031")
			e.must(http.StatusNoContent, req{Method: "POST", Path: "/api/v1/logout", Token: tok})
			if r := e.do(req{Path: "/api/v1/me", Token: tok}); r.Status != http.StatusUnauthorized {
				t.Fatalf("replayed token: %d", r.Status)
			}
		})
		t.Run("a session ends after 30 idle minutes", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			tok, _ := e.login("alice", "Initial-Pass-9031")
			for range 3 { // activity keeps it alive past 30 minutes in total
				e.clock.Advance(29 * time.Minute)
				e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
			}
			e.clock.Advance(30 * time.Minute)
			if r := e.do(req{Path: "/api/v1/me", Token: tok}); r.Status != http.StatusUnauthorized {
				t.Fatalf("after 30 idle minutes: %d", r.Status)
			}
		})
		t.Run("a session ends 12 hours after sign-in however active", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			tok, _ := e.login("alice", "Initial-Pass-9031")
			for range 24 {
				e.clock.Advance(29 * time.Minute)
				e.do(req{Path: "/api/v1/me", Token: tok})
			}
			e.clock.Advance(25 * time.Minute) // 12 h 01 min in all
			if r := e.do(req{Path: "/api/v1/me", Token: tok}); r.Status != http.StatusUnauthorized {
				t.Fatalf("after 12 hours: %d", r.Status)
			}
		})
		t.Run("no secret reaches the logs", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			tok, _ := e.login("alice", "Initial-Pass-9031")
			e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "Secret-Wrong-777"}})
			e.signAll(tok)
			tk := e.ticket(tok, "password", "Initial-Pass-9031")
			e.do(req{Path: "/api/v1/nothing?token=" + tok, Token: tok})
			logs := e.logs.String()
			for _, secret := range []string{"Initial-Pass-9031", "Secret-Wrong-777", tok, tk} {
				if strings.Contains(logs, secret) {
					t.Errorf("the logs contain a secret %q", secret)
				}
			}
		})
	})
}

func (e *env) hasEvent(action string) bool {
	r := e.must(http.StatusOK, req{Path: "/admin/v1/events?action=" + action, Token: operatorToken})
	evs, _ := r.JSON()["events"].([]any)
	return len(evs) > 0
}
