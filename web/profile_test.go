package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/notify"
)

// sentTo returns the messages of a kind sent to an address.
func (e *env) sentTo(to, kind string) []string {
	var out []string
	for _, m := range atriumtest.Outbox(e.t, e.app) {
		if m.To == to && m.Kind == kind {
			out = append(out, m.Subject+"\n"+m.Body)
		}
	}
	return out
}

func TestProfileChanges(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		const email, phone = "alice@example.com", "+8613800138000"
		t.Run("changing the username ends every session and the new name signs in", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			other, _ := e.login("alice", goodPassword)
			e.createMSP("Beta", "bob-owner", "Initial-Pass-9031")
			for _, taken := range []string{"BOB-OWNER", "bоb-owner" /* Cyrillic о */} {
				tk := e.ticket(tok, "username", goodPassword)
				if r := e.do(req{Method: "PUT", Path: "/api/v1/me/username", Token: tok, Body: map[string]any{"ticket": tk, "username": taken}}); r.Status != http.StatusConflict || r.Code() != "username_taken" {
					t.Fatalf("%q: %d %s", taken, r.Status, r.Body)
				}
			}
			tk := e.ticket(tok, "username", goodPassword)
			if r := e.do(req{Method: "PUT", Path: "/api/v1/me/username", Token: tok, Body: map[string]any{"ticket": tk, "username": "9lives"}}); r.Code() != "invalid" {
				t.Fatalf("bad name: %s", r.Body)
			}
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/username", Token: tok, Body: map[string]any{"ticket": tk, "username": "alice.w"}})
			for _, token := range []string{tok, other} {
				e.must(http.StatusUnauthorized, req{Path: "/api/v1/me", Token: token})
			}
			e.must(http.StatusUnauthorized, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": goodPassword}})
			e.login("alice.w", goodPassword)
			if n := e.sentTo(email, notify.KindUsernameChanged); len(n) != 1 || !strings.Contains(n[0], "alice.w") {
				t.Fatalf("notice %v", n)
			}
		})
		t.Run("an email is linked only when the code sent to it is entered, and the old address is told", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			tk := e.ticket(tok, "email", goodPassword)
			r := e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/me/email", Token: tok, Body: map[string]any{"ticket": tk, "email": "alice.new@example.org"}})
			if r.JSON()["sent_to"] != "a***@example.org" {
				t.Fatalf("sent_to %v", r.JSON()["sent_to"])
			}
			if me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON(); me["email"] != email {
				t.Fatalf("linked before the code: %v", me["email"])
			}
			if r := e.do(req{Method: "POST", Path: "/api/v1/me/email/confirm", Token: tok, Body: map[string]any{"code": "000000"}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("wrong code: %d", r.Status)
			}
			r = e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/email/confirm", Token: tok, Body: map[string]any{"code": e.code("alice.new@example.org")}})
			if r.JSON()["email"] != "alice.new@example.org" {
				t.Fatalf("me %s", r.Body)
			}
			if n := e.sentTo(email, notify.KindEmailChangedOld); len(n) != 1 || strings.Contains(n[0], "alice.new@example.org") {
				t.Fatalf("old address notice %v (the new address must be masked)", n)
			}
			if len(e.sentTo("alice.new@example.org", notify.KindEmailLinked)) != 1 {
				t.Fatal("no notice to the new address")
			}
			// The ticket was spent with the confirmation.
			if r := e.do(req{Method: "POST", Path: "/api/v1/me/email", Token: tok, Body: map[string]any{"ticket": tk, "email": "third@example.org"}}); r.Code() != "ticket_invalid" {
				t.Fatalf("ticket reuse: %s", r.Body)
			}
			e.login("alice.new@example.org", goodPassword)
		})
		t.Run("an address linked to another account answers 409 and links nothing", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.readyWith("bob-owner", "bob@example.com", "+8613900139000")
			tok := e.readyWith("alice", email, phone)
			for _, c := range []struct{ what, addr, field string }{{"email", "BOB@example.com", "email"}, {"phone", "139 0013 9000", "phone"}} {
				tk := e.ticket(tok, c.what, goodPassword)
				e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/me/" + c.what, Token: tok, Body: map[string]any{"ticket": tk, c.what: c.addr}})
				to := "BOB@example.com"
				if c.what == "phone" {
					to = "+8613900139000"
				}
				r := e.do(req{Method: "POST", Path: "/api/v1/me/" + c.what + "/confirm", Token: tok, Body: map[string]any{"code": e.code(to)}})
				if r.Status != http.StatusConflict || r.JSON()["field"] != c.field {
					t.Fatalf("%s: %d %s", c.what, r.Status, r.Body)
				}
			}
			me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON()
			if me["email"] != email || me["phone"] != phone {
				t.Fatalf("changed: %v %v", me["email"], me["phone"])
			}
		})
		t.Run("phones are stored in E.164", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			for _, c := range []struct {
				in     string
				status int
				want   string
			}{
				{"139 0013 9000", 202, "+8613900139000"},
				{"+1 (415) 555-2671", 202, "+14155552671"},
				{"12345", 422, ""},
				{"not a phone", 422, ""},
			} {
				tk := e.ticket(tok, "phone", goodPassword)
				r := e.do(req{Method: "POST", Path: "/api/v1/me/phone", Token: tok, Body: map[string]any{"ticket": tk, "phone": c.in}})
				if r.Status != c.status {
					t.Errorf("%q: %d %s", c.in, r.Status, r.Body)
					continue
				}
				if c.want != "" {
					e.code(c.want) // a code went to the E.164 form
				}
				e.clock.Advance(61 * time.Second)
			}
		})
		t.Run("unlinking asks for a ticket and tells the address", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.must(http.StatusForbidden, req{Method: "POST", Path: "/api/v1/me/email/unlink", Token: tok, Body: map[string]any{"ticket": ""}})
			tk := e.ticket(tok, "email", goodPassword)
			r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/email/unlink", Token: tok, Body: map[string]any{"ticket": tk}})
			if r.JSON()["email"] != nil {
				t.Fatalf("still linked: %s", r.Body)
			}
			if len(e.sentTo(email, notify.KindEmailUnlinked)) != 1 {
				t.Fatal("no notice")
			}
			tk = e.ticket(tok, "email", goodPassword)
			if r := e.do(req{Method: "POST", Path: "/api/v1/me/email/unlink", Token: tok, Body: map[string]any{"ticket": tk}}); r.Code() != "not_linked" {
				t.Fatalf("unlink again: %s", r.Body)
			}
		})
		t.Run("two-factor needs a phone, then sign-in asks for an SMS code", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("bob-owner")
			tk := e.ticket(tok, "two_factor", goodPassword)
			if r := e.do(req{Method: "PUT", Path: "/api/v1/me/two-factor", Token: tok, Body: map[string]any{"ticket": tk, "enabled": true}}); r.Status != http.StatusConflict || r.Code() != "phone_required" {
				t.Fatalf("without a phone: %d %s", r.Status, r.Body)
			}

			tok = e.readyWith("alice", email, phone)
			tk = e.ticket(tok, "two_factor", goodPassword)
			if me := e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/two-factor", Token: tok, Body: map[string]any{"ticket": tk, "enabled": true}}).JSON(); me["two_factor_enabled"] != true {
				t.Fatalf("me %v", me)
			}
			if len(e.sentTo(phone, notify.KindTwoFactorOn)) != 1 {
				t.Fatal("no notice")
			}
			tk = e.ticket(tok, "phone", goodPassword)
			if r := e.do(req{Method: "POST", Path: "/api/v1/me/phone/unlink", Token: tok, Body: map[string]any{"ticket": tk}}); r.Status != http.StatusConflict || r.Code() != "phone_required" {
				t.Fatalf("unlink phone with 2FA on: %d %s", r.Status, r.Body)
			}

			r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": goodPassword}})
			m := r.JSON()
			if m["status"] != "second_factor_required" || m["login_id"] == nil || m["token"] != nil || m["sent_to"] != "+86138****8000" {
				t.Fatalf("login: %s", r.Body)
			}
			loginID := m["login_id"].(string)
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": loginID, "code": "000000"}}); r.Status != http.StatusUnauthorized || r.Code() != "second_factor_failed" {
				t.Fatalf("wrong code: %d %s", r.Status, r.Body)
			}
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": "made-up", "code": e.code(phone)}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("unknown login_id: %d", r.Status)
			}
			r = e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": loginID, "code": e.code(phone)}})
			token, _ := r.JSON()["token"].(string)
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: token})
			if r := e.do(req{Method: "POST", Path: "/api/v1/login/second-factor", Body: map[string]any{"login_id": loginID, "code": e.code(phone)}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("challenge reused: %d", r.Status)
			}
		})
		t.Run("a password change is confirmed by email with the next change time", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.readyWith("alice", email, phone)
			n := e.sentTo(email, notify.KindPasswordChanged)
			want := e.clock.Now().Add(90 * 24 * time.Hour).Format("2006-01-02")
			if len(n) != 1 || !strings.Contains(n[0], want) || strings.Contains(n[0], goodPassword) {
				t.Fatalf("notice %v, want the date %s and no password", n, want)
			}
		})
		t.Run("recovery answers the same whether or not the account exists", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			var bodies []string
			for _, id := range []string{"alice", "nobody", "alice@example.com", "+8613800138000"} {
				r := e.do(req{Method: "POST", Path: "/api/v1/recovery/codes", Body: map[string]any{"identifier": id, "channel": "email"}})
				if r.Status != http.StatusAccepted {
					t.Fatalf("%s: %d", id, r.Status)
				}
				bodies = append(bodies, string(r.Body))
			}
			for _, b := range bodies[1:] {
				if b != bodies[0] {
					t.Fatalf("answers differ: %q vs %q", bodies[0], b)
				}
			}
			if r := e.do(req{Method: "POST", Path: "/api/v1/recovery", Body: map[string]any{"identifier": "nobody", "code": "123456", "new_password": "Quiet-Harbor-5120"}}); r.Status != http.StatusUnauthorized || r.Code() != "verification_failed" {
				t.Fatalf("unknown account: %d %s", r.Status, r.Body)
			}
			code := e.code(email)
			if r := e.do(req{Method: "POST", Path: "/api/v1/recovery", Body: map[string]any{"identifier": "alice", "code": code, "new_password": "password"}}); r.Code() != "weak_password" {
				t.Fatalf("weak: %s", r.Body)
			}
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/recovery", Body: map[string]any{"identifier": "alice", "code": code, "new_password": "Quiet-Harbor-5120"}})
			e.must(http.StatusUnauthorized, req{Path: "/api/v1/me", Token: tok})
			e.login("alice", "Quiet-Harbor-5120")
			if len(e.sentTo(email, notify.KindPasswordReset)) != 1 {
				t.Fatal("no notice")
			}
		})
		t.Run("a lock is told to the linked channels", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.readyWith("alice", email, phone)
			for range 5 {
				e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "wrong"}})
			}
			if len(e.sentTo(email, notify.KindAccountLocked)) != 1 || len(e.sentTo(phone, notify.KindAccountLocked)) != 1 {
				t.Fatal("no lock notices")
			}
		})
		t.Run("integrating services notify an account's linked channels", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.readyWith("alice", email, phone)
			r := e.must(http.StatusAccepted, req{Method: "POST", Path: "/admin/v1/notifications", Token: operatorToken, Body: map[string]any{"account_id": 1, "subject": "Ticket #42 updated", "body": "Your service ticket was answered."}})
			if fmt.Sprint(r.JSON()["channels"]) != "[email sms]" {
				t.Fatalf("%s", r.Body)
			}
			if n := e.sentTo(email, notify.KindNotification); len(n) != 1 || !strings.Contains(n[0], "Ticket #42 updated") {
				t.Fatalf("%v", n)
			}
			e.must(http.StatusNotFound, req{Method: "POST", Path: "/admin/v1/notifications", Token: operatorToken, Body: map[string]any{"account_id": 99, "subject": "x", "body": "y"}})
			e.must(http.StatusOK, req{Path: "/admin/v1/messages?status=queued", Token: operatorToken})
		})
		t.Run("the password reminder goes out once, 7 days before expiry", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.readyWith("alice", email, phone)
			e.clock.Advance(82 * 24 * time.Hour)
			if n, err := e.app.RemindPasswordExpiry(t.Context()); err != nil || n != 0 {
				t.Fatalf("8 days before: %d %v", n, err)
			}
			e.clock.Advance(24*time.Hour + time.Minute)
			for _, want := range []int{1, 0} {
				if n, err := e.app.RemindPasswordExpiry(t.Context()); err != nil || n != want {
					t.Fatalf("7 days before: %d %v, want %d", n, err, want)
				}
			}
			if len(e.sentTo(email, notify.KindPasswordReminder)) != 1 {
				t.Fatal("no reminder")
			}
		})
	})
}
