package app

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Identifier string // username, linked email or linked phone
	Password   string
	ClientIP   string
	UserAgent  string
}

// LoginResult is a successful sign-in: a new session and its token, shown
// once; or, for an account with two-factor authentication, the ID of the
// challenge that waits for the SMS code.
type LoginResult struct {
	Token     string
	Principal *Principal
	Pending   []string

	LoginID string    // set when the second factor is required
	Method  string    // the second factor: "sms" or "totp" (authenticator app or recovery code)
	Code    *CodeSent // the SMS code sent for it
}

// Login signs an account in. An unknown identifier and a wrong password give the
// same EInvalidCredentials after the same work (a dummy hash is verified). After
// Config.LockThreshold consecutive failures the account is locked for
// Config.LockDuration: EAccountLocked with "locked_until" in the details.
func (a *App) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	now := a.now()
	invalid := atrium.Errorf(atrium.EInvalidCredentials, "The account name or password is incorrect.")
	usernameKey, emailKey, phone := a.identifierKeys(in.Identifier)
	if usernameKey == "" || in.Password == "" {
		a.Hasher.VerifyDummy(ctx, in.Password)
		return nil, invalid
	}
	var acc *atrium.Account
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		acc, err = tx.AccountByIdentifier(ctx, usernameKey, emailKey, phone)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		a.Hasher.VerifyDummy(ctx, in.Password)
		err := a.DB.Update(ctx, func(tx *store.Tx) error {
			return a.event(ctx, tx, atrium.Event{Action: "login", Outcome: atrium.OutcomeFailure, ClientIP: in.ClientIP, Detail: "unknown_identifier"})
		})
		if err != nil {
			return nil, err
		}
		return nil, invalid
	} else if err != nil {
		return nil, err
	}

	if acc.Locked(now) {
		a.Hasher.VerifyDummy(ctx, in.Password)
		err := a.DB.Update(ctx, func(tx *store.Tx) error {
			ev := accountEvent(acc, "login", in.ClientIP)
			ev.Outcome, ev.Detail = atrium.OutcomeFailure, "locked"
			return a.event(ctx, tx, ev)
		})
		if err != nil {
			return nil, err
		}
		return nil, lockedError(*acc.LockedUntil)
	}

	ok, rehash, err := a.Hasher.Verify(ctx, in.Password, acc.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, a.loginFailed(ctx, acc, in.ClientIP, "login", invalid)
	}

	if rehash {
		hash, err := a.Hasher.Hash(ctx, in.Password)
		if err != nil {
			return nil, err
		}
		if err := a.DB.Update(ctx, func(tx *store.Tx) error { return tx.RehashPassword(ctx, acc.ID, hash) }); err != nil {
			return nil, err
		}
		acc.PasswordHash = hash
	}
	if acc.TOTPEnabled || (acc.TwoFactorEnabled && acc.Phone != "") {
		return a.startChallenge(ctx, acc, in)
	}
	var res *LoginResult
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		res, err = a.createSession(ctx, tx, acc, in)
		return err
	})
	return res, err
}

// startChallenge answers a correct password of an account with two-factor
// authentication: a sign-in challenge (its ID token shown once as login_id)
// and, unless the authenticator app is the second factor, an SMS code to the
// linked phone.
func (a *App) startChallenge(ctx context.Context, acc *atrium.Account, in LoginInput) (*LoginResult, error) {
	now := a.now()
	tok, hash, err := a.newToken()
	if err != nil {
		return nil, err
	}
	c := &store.Challenge{AccountID: acc.ID, CreatedAt: now, ExpiresAt: now.Add(a.Config.ChallengeTTL), ClientIP: in.ClientIP, UserAgent: truncate(in.UserAgent, 256)}
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertChallenge(ctx, c, hash); err != nil {
			return err
		}
		ev := accountEvent(acc, "login.password", in.ClientIP)
		ev.Detail = "second_factor_required"
		return a.event(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	if acc.TOTPEnabled {
		return &LoginResult{LoginID: tok, Method: atrium.MethodTOTP}, nil
	}
	sent, err := a.issueCode(ctx, codeSpec{
		scope:       store.CodeScope{AccountID: acc.ID, ChallengeID: c.ID, Purpose: codeLogin, Channel: atrium.MethodSMS},
		destination: acc.Phone, clientIP: in.ClientIP, lang: acc.Language,
	})
	if err != nil {
		return nil, err // ERateLimited: sign in again after retry_after
	}
	return &LoginResult{LoginID: tok, Method: atrium.MethodSMS, Code: sent}, nil
}

// ResendLoginCode sends a new SMS code for a sign-in challenge. ESecondFactor
// when the challenge is unknown, used or expired; ERateLimited.
func (a *App) ResendLoginCode(ctx context.Context, loginID, clientIP string) (*CodeSent, error) {
	c, acc, err := a.challenge(ctx, loginID)
	if err != nil {
		return nil, err
	}
	return a.issueCode(ctx, codeSpec{
		scope:       store.CodeScope{AccountID: acc.ID, ChallengeID: c.ID, Purpose: codeLogin, Channel: atrium.MethodSMS},
		destination: acc.Phone, clientIP: clientIP, lang: acc.Language,
	})
}

func (a *App) challenge(ctx context.Context, loginID string) (*store.Challenge, *atrium.Account, error) {
	fail := atrium.Errorf(atrium.ESecondFactor, "The verification code is wrong or expired. Sign in again.")
	if loginID == "" || len(loginID) > 128 {
		return nil, nil, fail
	}
	var c *store.Challenge
	var acc *atrium.Account
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = tx.ChallengeByHash(ctx, HashToken(loginID), a.now()); err != nil {
			return err
		}
		acc, err = tx.AccountByID(ctx, c.AccountID)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, nil, fail
	}
	return c, acc, err
}

// LoginSecondFactor completes a sign-in with the SMS code of its challenge.
// ESecondFactor for an unknown challenge or a wrong, expired or void code.
func (a *App) LoginSecondFactor(ctx context.Context, loginID, code string, in LoginInput) (*LoginResult, error) {
	c, acc, err := a.challenge(ctx, loginID)
	if err != nil {
		return nil, err
	}
	fail := atrium.Errorf(atrium.ESecondFactor, "The verification code is wrong or expired.").With("field", "code")
	var res *LoginResult
	finish := func(tx *store.Tx) error {
		if err := tx.UseChallenge(ctx, c.ID, a.now()); err != nil {
			return fail
		}
		var err error
		res, err = a.createSession(ctx, tx, acc, in)
		return err
	}
	if acc.TOTPEnabled {
		// The try is counted in its own transaction, so a wrong code counts.
		err = a.DB.Update(ctx, func(tx *store.Tx) error {
			if err := tx.ClaimChallengeAttempt(ctx, c.ID, a.Config.CodeMaxAttempts); err != nil {
				return fail
			}
			return nil
		})
		if err == nil {
			err = a.DB.Update(ctx, func(tx *store.Tx) error {
				if err := a.secondFactorTOTP(ctx, tx, c, code, fail); err != nil {
					return err
				}
				return finish(tx)
			})
		}
	} else {
		scope := store.CodeScope{AccountID: acc.ID, ChallengeID: c.ID, Purpose: codeLogin, Channel: atrium.MethodSMS}
		err = a.redeemCode(ctx, scope, strings.TrimSpace(code), fail, nil, func(tx *store.Tx, _ *store.Code) error { return finish(tx) })
	}
	if atrium.ErrorCode(err) == atrium.ESecondFactor {
		a.DB.Update(ctx, func(tx *store.Tx) error {
			ev := accountEvent(acc, "login.second_factor", in.ClientIP)
			ev.Outcome = atrium.OutcomeFailure
			return a.event(ctx, tx, ev)
		})
	}
	return res, err
}

// loginFailed counts a failed password for acc and answers fail, or
// EAccountLocked when this failure locks the account.
func (a *App) loginFailed(ctx context.Context, acc *atrium.Account, clientIP, action string, fail error) error {
	now := a.now()
	var locked bool
	var until = now.Add(a.Config.LockDuration)
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		lockedUntil, err := tx.RecordLoginFailure(ctx, acc.ID, a.Config.LockThreshold, until)
		if err != nil {
			return err
		}
		ev := accountEvent(acc, action, clientIP)
		ev.Outcome, ev.Detail = atrium.OutcomeFailure, "wrong_password"
		if err := a.event(ctx, tx, ev); err != nil {
			return err
		}
		if lockedUntil != nil {
			locked, until = true, *lockedUntil
			lock := accountEvent(acc, "account.lock", clientIP)
			lock.Detail = "until=" + until.Format("2006-01-02T15:04:05Z")
			if err := a.event(ctx, tx, lock); err != nil {
				return err
			}
			return a.notice(ctx, tx, acc, notify.KindAccountLocked, map[string]string{"Until": until.Format("2006-01-02 15:04 UTC")})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if locked {
		return lockedError(until)
	}
	return fail
}

func lockedError(until time.Time) error {
	return atrium.Errorf(atrium.EAccountLocked, "Too many failed attempts. The account is locked until %s.", until.Format("2006-01-02 15:04:05 UTC")).
		With("locked_until", until)
}

// createSession signs acc in inside tx: a new session with a new token, the
// failure count cleared, an audit event.
func (a *App) createSession(ctx context.Context, tx *store.Tx, acc *atrium.Account, in LoginInput) (*LoginResult, error) {
	now := a.now()
	tok, hash, err := a.newToken()
	if err != nil {
		return nil, err
	}
	s := &atrium.Session{
		AccountID:  acc.ID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(a.Config.SessionAbsolute),
		ClientIP:   in.ClientIP,
		UserAgent:  truncate(in.UserAgent, 256),
	}
	if err := tx.RecordLoginSuccess(ctx, acc.ID, now); err != nil {
		return nil, err
	}
	if err := tx.InsertSession(ctx, s, hash); err != nil {
		return nil, err
	}
	if err := a.event(ctx, tx, accountEvent(acc, "login", in.ClientIP)); err != nil {
		return nil, err
	}
	acc.FailedLogins, acc.LockedUntil, acc.LastLoginAt = 0, nil, &now
	p := &Principal{Session: s, Account: acc, ClientIP: in.ClientIP}
	return &LoginResult{Token: tok, Principal: p, Pending: a.Pending(p)}, nil
}

// Authenticate returns the principal of a session token: one indexed lookup for
// the session and one for the account, with statements prepared at start. The
// session's last activity is written at most once per Config.TouchInterval.
// EUnauthorized if the token is unknown or the session has ended.
func (a *App) Authenticate(ctx context.Context, token, clientIP string) (*Principal, error) {
	if token == "" || len(token) > 128 {
		return nil, errUnauthorized
	}
	s, err := a.DB.SessionByTokenHash(ctx, HashToken(token))
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	now := a.now()
	if !s.Active(now, a.Config.SessionIdle) {
		return nil, errSessionExpired
	}
	acc, err := a.DB.AccountByID(ctx, s.AccountID)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	if now.Sub(s.LastSeenAt) >= a.Config.TouchInterval {
		if err := a.DB.TouchSession(ctx, s.ID, now); err != nil {
			return nil, err
		}
		s.LastSeenAt = now
	}
	return &Principal{Session: s, Account: acc, ClientIP: clientIP}, nil
}

// The answers of Authenticate, made once: it runs on every request.
var (
	errUnauthorized   = atrium.Errorf(atrium.EUnauthorized, "Sign in to continue.")
	errSessionExpired = errUnauthorized.With("reason", "session_expired")
)

// Logout ends the principal's session on the server.
func (a *App) Logout(ctx context.Context, p *Principal) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, p.Account.ID, p.Session.ID); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
			return err
		}
		return a.event(ctx, tx, accountEvent(p.Account, "logout", p.ClientIP))
	})
}

// Sessions lists the principal's account's sessions.
func (a *App) Sessions(ctx context.Context, p *Principal) ([]*atrium.Session, error) {
	var out []*atrium.Session
	now := a.now()
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		all, err := tx.SessionsByAccount(ctx, p.Account.ID)
		for _, s := range all {
			if s.Active(now, a.Config.SessionIdle) {
				out = append(out, s)
			}
		}
		return err
	})
	return out, err
}

// RevokeSession ends one of the principal's account's sessions; ENotFound if the
// account has no such session.
func (a *App) RevokeSession(ctx context.Context, p *Principal, id int64) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, p.Account.ID, id); err != nil {
			return err
		}
		return a.event(ctx, tx, accountEvent(p.Account, "session.revoke", p.ClientIP))
	})
}

// Events returns the principal's own audit events, newest first.
func (a *App) Events(ctx context.Context, p *Principal, limit int) ([]*atrium.Event, error) {
	var out []*atrium.Event
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Events(ctx, atrium.EventFilter{AccountID: p.Account.ID, Limit: limit})
		return err
	})
	return out, err
}

// SetLanguage stores the principal's console language.
func (a *App) SetLanguage(ctx context.Context, p *Principal, lang string) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetLanguage(ctx, p.Account.ID, lang) })
}

// identifierKeys returns the keys an identifier is looked up by: as a username,
// as an email address, and as a phone number in E.164 (a number without a
// country code is read as one of Config.PhoneRegion).
func (a *App) identifierKeys(id string) (usernameKey, emailKey, phone string) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 254 {
		return "", "", ""
	}
	usernameKey = atrium.UsernameKey(id)
	emailKey = store.EmailKey(id)
	if strings.IndexFunc(id, func(r rune) bool { return unicode.IsLetter(r) || r == '@' }) < 0 {
		phone, _ = NormalizePhone(id, a.Config.PhoneRegion)
	}
	return usernameKey, emailKey, phone
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utfStart(s[n]) {
		n--
	}
	return s[:n]
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }

// SweepSessions deletes sessions that have ended, so the table does not grow
// without bound; an ended session is refused whether or not it was swept.
func (a *App) SweepSessions(ctx context.Context) (int64, error) {
	now := a.now()
	var n int64
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessions(ctx, now, now.Add(-a.Config.SessionIdle))
		return err
	})
	return n, err
}

// SweepMessages deletes delivered and failed messages older than retention from
// the outbox: what was sent is not kept for ever (queued ones stay).
func (a *App) SweepMessages(ctx context.Context, retention time.Duration) (int64, error) {
	var n int64
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteOldMessages(ctx, a.now().Add(-retention))
		return err
	})
	return n, err
}
