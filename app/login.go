package app

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/store"
)

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Identifier string // username, linked email or linked phone
	Password   string
	ClientIP   string
	UserAgent  string
}

// LoginResult is a successful sign-in: a new session and its token, shown once.
type LoginResult struct {
	Token     string
	Principal *Principal
	Pending   []string
}

// Login signs an account in. An unknown identifier and a wrong password give the
// same EInvalidCredentials after the same work (a dummy hash is verified). After
// Config.LockThreshold consecutive failures the account is locked for
// Config.LockDuration: EAccountLocked with "locked_until" in the details.
func (a *App) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	now := a.now()
	invalid := atrium.Errorf(atrium.EInvalidCredentials, "The account name or password is incorrect.")
	usernameKey, emailKey, phone := identifierKeys(in.Identifier)
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

	var newHash string
	if rehash {
		if newHash, err = a.Hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	return a.startSession(ctx, acc, in, newHash)
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
			return a.event(ctx, tx, lock)
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

// startSession creates a session for acc after a successful first factor.
func (a *App) startSession(ctx context.Context, acc *atrium.Account, in LoginInput, rehash string) (*LoginResult, error) {
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
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if rehash != "" {
			if err := tx.RehashPassword(ctx, acc.ID, rehash); err != nil {
				return err
			}
			acc.PasswordHash = rehash
		}
		if err := tx.RecordLoginSuccess(ctx, acc.ID, now); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, s, hash); err != nil {
			return err
		}
		return a.event(ctx, tx, accountEvent(acc, "login", in.ClientIP))
	})
	if err != nil {
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
	unauthorized := atrium.Errorf(atrium.EUnauthorized, "Sign in to continue.")
	if token == "" || len(token) > 128 {
		return nil, unauthorized
	}
	s, err := a.DB.SessionByTokenHash(ctx, HashToken(token))
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, unauthorized
	} else if err != nil {
		return nil, err
	}
	now := a.now()
	if !s.Active(now, a.Config.SessionIdle) {
		return nil, unauthorized.With("reason", "session_expired")
	}
	acc, err := a.DB.AccountByID(ctx, s.AccountID)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, unauthorized
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
// as an email address, and as a phone number (E.164 when it has a leading + and
// only digits and separators).
func identifierKeys(id string) (usernameKey, emailKey, phone string) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 254 {
		return "", "", ""
	}
	usernameKey = atrium.UsernameKey(id)
	emailKey = store.EmailKey(id)
	var b strings.Builder
	for _, r := range id {
		switch {
		case unicode.IsDigit(r) && r < 128:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		default:
			return usernameKey, emailKey, ""
		}
	}
	phone = b.String()
	if !strings.HasPrefix(phone, "+") || len(phone) < 8 {
		phone = ""
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
