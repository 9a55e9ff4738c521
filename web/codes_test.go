package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/store"
)

// code returns the newest verification code sent to an address.
func (e *env) code(to string) string {
	e.t.Helper()
	return atriumtest.LastCode(e.t, e.app, to)
}

// readyWith is ready() for an owner with an email and a phone linked by the
// operator.
func (e *env) readyWith(username, email, phone string) string {
	e.t.Helper()
	e.createMSP("MSP of "+username, username, "Initial-Pass-9031", map[string]any{"email": email, "phone": phone})
	tok, _ := e.login(username, "Initial-Pass-9031")
	e.signAll(tok)
	tk := e.ticket(tok, "password", "Initial-Pass-9031")
	e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})
	return tok
}

func (e *env) sendCode(tok, purpose, channel string) *resp {
	return e.do(req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": purpose, "channel": channel}})
}

func (e *env) verifyCode(tok, purpose, channel, code string) *resp {
	return e.do(req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": purpose, "method": channel, "code": code}})
}

func TestVerificationCodes(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		const email, phone = "alice@example.com", "+8613800138000"
		t.Run("a code by SMS or email yields a ticket for its purpose", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			for _, c := range []struct{ channel, to, masked string }{{"sms", phone, "+86138****8000"}, {"email", email, "a***@example.com"}} {
				r := e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": c.channel}})
				if m := r.JSON(); m["sent_to"] != c.masked || m["expires_in"] != float64(300) || m["resend_after"] != float64(60) {
					t.Errorf("%s: %s", c.channel, r.Body)
				}
				r = e.verifyCode(tok, "password", c.channel, e.code(c.to))
				if r.Status != http.StatusOK || r.JSON()["ticket"] == nil {
					t.Errorf("%s: %d %s", c.channel, r.Status, r.Body)
				}
				tk := r.JSON()["ticket"].(string)
				e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": "Quiet-Harbor-5" + c.channel}})
			}
		})
		t.Run("a code expires after 5 minutes", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "sms"}})
			code := e.code(phone)
			e.clock.Advance(5*time.Minute + time.Second)
			if r := e.verifyCode(tok, "password", "sms", code); r.Status != http.StatusUnauthorized || r.Code() != "verification_failed" {
				t.Fatalf("after 5 min 1 s: %d %s", r.Status, r.Body)
			}
			e.clock.Advance(time.Minute)
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "sms"}})
			code = e.code(phone)
			e.clock.Advance(4*time.Minute + 59*time.Second)
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": "password", "method": "sms", "code": code}})
		})
		t.Run("a code is void after 5 wrong tries", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.sendCode(tok, "password", "email")
			code := e.code(email)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := range 5 {
				r := e.verifyCode(tok, "password", "email", wrong)
				if r.Status != http.StatusUnauthorized || r.JSON()["attempts_left"] != float64(4-i) {
					t.Fatalf("try %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			if r := e.verifyCode(tok, "password", "email", code); r.Status != http.StatusUnauthorized {
				t.Fatalf("the right code after 5 wrong tries: %d %s", r.Status, r.Body)
			}
		})
		t.Run("fifty concurrent wrong guesses are compared at most 5 times", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.sendCode(tok, "password", "email")
			code := e.code(email)
			var evaluated atomic.Int32
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					guess := "123456"
					if guess == code {
						guess = "654321"
					}
					_ = i
					if r := e.verifyCode(tok, "password", "email", guess); r.JSON()["attempts_left"] != nil {
						evaluated.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := evaluated.Load(); n > 5 || n == 0 {
				t.Fatalf("%d guesses were compared", n)
			}
			if r := e.verifyCode(tok, "password", "email", code); r.Status != http.StatusUnauthorized {
				t.Fatalf("the right code afterwards: %d", r.Status)
			}
		})
		t.Run("eight concurrent redemptions of one code succeed once", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.sendCode(tok, "password", "sms")
			code := e.code(phone)
			var ok atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if e.verifyCode(tok, "password", "sms", code).Status == http.StatusOK {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("%d redemptions succeeded", ok.Load())
			}
		})
		t.Run("a new code supersedes the older one", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.sendCode(tok, "password", "sms")
			first := e.code(phone)
			e.clock.Advance(61 * time.Second)
			e.sendCode(tok, "password", "sms")
			second := e.code(phone)
			if first != second {
				if r := e.verifyCode(tok, "password", "sms", first); r.Status != http.StatusUnauthorized {
					t.Fatalf("the older code: %d", r.Status)
				}
			}
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/verifications", Token: tok, Body: map[string]any{"purpose": "password", "method": "sms", "code": second}})
		})
		t.Run("a second code to one destination within 60 seconds is refused", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "sms"}})
			before := len(atriumtest.Outbox(t, e.app))
			e.clock.Advance(59 * time.Second)
			r := e.sendCode(tok, "username", "sms")
			if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" || r.JSON()["retry_after"] != float64(1) {
				t.Fatalf("at 59 s: %d %s", r.Status, r.Body)
			}
			if len(atriumtest.Outbox(t, e.app)) != before {
				t.Fatal("a refused code was sent")
			}
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "email"}})
			e.clock.Advance(time.Second)
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "sms"}})
		})
		t.Run("an account gets at most 10 codes an hour", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			for i := range 10 {
				ch := []string{"sms", "email"}[i%2]
				if r := e.sendCode(tok, "password", ch); r.Status != http.StatusAccepted {
					t.Fatalf("code %d: %d %s", i+1, r.Status, r.Body)
				}
				e.clock.Advance(31 * time.Second)
			}
			e.clock.Advance(time.Minute)
			if r := e.sendCode(tok, "password", "sms"); r.Status != http.StatusTooManyRequests {
				t.Fatalf("11th code in the hour: %d %s", r.Status, r.Body)
			}
			e.clock.Advance(time.Hour)
			tok, _ = e.login("alice", goodPassword) // the session went idle meanwhile
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "sms"}})
		})
		t.Run("a destination gets at most 10 codes a day", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			for i := range 10 {
				if r := e.sendCode(tok, "password", "sms"); r.Status != http.StatusAccepted {
					t.Fatalf("code %d: %d %s", i+1, r.Status, r.Body)
				}
				e.clock.Advance(2 * time.Hour)
				tok, _ = e.login("alice", goodPassword)
			}
			r := e.sendCode(tok, "password", "sms")
			if r.Status != http.StatusTooManyRequests {
				t.Fatalf("11th code in the day: %d %s", r.Status, r.Body)
			}
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/verifications/codes", Token: tok, Body: map[string]any{"purpose": "password", "channel": "email"}})
		})
		t.Run("a client address is limited across accounts", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.app.Config.CodesPerClientHour = 3
			for i, name := range []string{"alice", "bob-one", "carol", "dave"} {
				tok := e.readyWith(name, name+"@example.com", "+861380013800"+string(rune('0'+i)))
				r := e.sendCode(tok, "password", "email")
				want := http.StatusAccepted
				if i == 3 {
					want = http.StatusTooManyRequests
				}
				if r.Status != want {
					t.Fatalf("%s: %d %s", name, r.Status, r.Body)
				}
			}
		})
		t.Run("no code is stored in plain text", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			e.sendCode(tok, "password", "sms")
			code := e.code(phone)
			var hashes [][]byte
			var msgs []*store.Message
			e.app.DB.View(context.Background(), func(tx *store.Tx) error {
				hashes, _ = tx.CodeHashes(context.Background())
				msgs, _ = tx.Messages(context.Background(), store.MessageFilter{})
				return nil
			})
			for _, h := range hashes {
				if bytes.Contains(h, []byte(code)) || len(h) != 32 {
					t.Fatalf("code hash %x", h)
				}
			}
			for _, m := range msgs {
				if bytes.Contains(m.Body, []byte(code)) || strings.Contains(m.Subject, code) {
					t.Fatal("the outbox holds the code in plain text")
				}
			}
		})
		t.Run("a code is good only for its purpose and its session", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", email, phone)
			other, _ := e.login("alice", goodPassword)
			e.sendCode(tok, "password", "email")
			code := e.code(email)
			if r := e.verifyCode(tok, "username", "email", code); r.Status != http.StatusUnauthorized {
				t.Errorf("another purpose: %d", r.Status)
			}
			if r := e.verifyCode(other, "password", "email", code); r.Status != http.StatusUnauthorized {
				t.Errorf("another session: %d", r.Status)
			}
			tk := e.verifyCode(tok, "password", "email", code)
			if tk.Status != http.StatusOK {
				t.Fatalf("own purpose and session: %d %s", tk.Status, tk.Body)
			}
			if r := e.verifyCode(tok, "password", "email", code); r.Status != http.StatusUnauthorized {
				t.Errorf("second use: %d", r.Status)
			}
		})
		t.Run("only linked channels can receive codes", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for _, ch := range []string{"sms", "email"} {
				if r := e.sendCode(tok, "password", ch); r.Status != http.StatusUnprocessableEntity || r.Code() != "not_linked" {
					t.Errorf("%s: %d %s", ch, r.Status, r.Body)
				}
			}
		})
	})
}
