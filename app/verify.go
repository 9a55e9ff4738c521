package app

import (
	"context"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/password"
	"github.com/atrium-console/atrium/store"
)

// VerifyInput is an identity verification before a sensitive action.
type VerifyInput struct {
	Purpose  string // one of atrium.Purposes
	Method   string // atrium.MethodPassword; codes by SMS and email slot in beside it
	Password string
	Code     string
}

// IssuedTicket is the proof of a verification, shown once.
type IssuedTicket struct {
	Ticket    string
	ExpiresAt time.Time
}

// Verify checks the principal's identity for one purpose and returns a ticket:
// one use, bound to the account, the session and the purpose, valid for
// Config.TicketTTL. A wrong password answers EVerificationFailed and counts toward
// the sign-in lock, so a stolen session cannot guess the password without limit;
// a locked account answers EAccountLocked.
func (a *App) Verify(ctx context.Context, p *Principal, in VerifyInput) (*IssuedTicket, error) {
	if !atrium.ValidPurpose(in.Purpose) {
		return nil, atrium.Errorf(atrium.EInvalid, "Unknown verification purpose.").With("field", "purpose")
	}
	failed := atrium.Errorf(atrium.EVerificationFailed, "The identity verification failed.")
	switch in.Method {
	case atrium.MethodPassword:
		acc, err := a.freshAccount(ctx, p.Account.ID)
		if err != nil {
			return nil, err
		}
		if acc.Locked(a.now()) {
			return nil, lockedError(*acc.LockedUntil)
		}
		if in.Password == "" {
			return nil, failed.With("field", "password")
		}
		ok, _, err := a.Hasher.Verify(ctx, in.Password, acc.PasswordHash)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, a.loginFailed(ctx, acc, p.ClientIP, "verification", failed.With("field", "password"))
		}
	case atrium.MethodTOTP:
		if !p.Account.TOTPEnabled {
			return nil, atrium.Errorf(atrium.EInvalid, "The authenticator app is not set up.").With("field", "method")
		}
		var issued *IssuedTicket
		err := a.DB.Update(ctx, func(tx *store.Tx) error {
			ok, err := a.useTOTP(ctx, tx, p.Account.ID, in.Code, true)
			if err != nil {
				return err
			}
			if !ok {
				return failed.With("field", "code")
			}
			issued, err = a.insertTicket(ctx, tx, p, in.Purpose, in.Method)
			return err
		})
		if atrium.ErrorCode(err) == atrium.EVerificationFailed {
			// Wrong app codes count toward the sign-in lock, like passwords.
			return nil, a.loginFailed(ctx, p.Account, p.ClientIP, "verification", err)
		}
		return issued, err
	case atrium.MethodSMS, atrium.MethodEmail:
		var issued *IssuedTicket
		scope := store.CodeScope{AccountID: p.Account.ID, SessionID: p.Session.ID, Purpose: in.Purpose, Channel: in.Method}
		err := a.redeemCode(ctx, scope, strings.TrimSpace(in.Code), failed.With("field", "code"), nil, func(tx *store.Tx, _ *store.Code) error {
			var err error
			issued, err = a.insertTicket(ctx, tx, p, in.Purpose, in.Method)
			return err
		})
		if atrium.ErrorCode(err) == atrium.EVerificationFailed {
			a.DB.Update(ctx, func(tx *store.Tx) error {
				ev := accountEvent(p.Account, "verification", p.ClientIP)
				ev.Outcome, ev.Detail = atrium.OutcomeFailure, "purpose="+in.Purpose+" method="+in.Method
				return a.event(ctx, tx, ev)
			})
		}
		return issued, err
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "Unknown verification method.").With("field", "method")
	}
	return a.issueTicket(ctx, p, in.Purpose, in.Method)
}

// issueTicket stores a ticket for a verification that succeeded.
func (a *App) issueTicket(ctx context.Context, p *Principal, purpose, method string) (*IssuedTicket, error) {
	var out *IssuedTicket
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		out, err = a.insertTicket(ctx, tx, p, purpose, method)
		return err
	})
	return out, err
}

func (a *App) insertTicket(ctx context.Context, tx *store.Tx, p *Principal, purpose, method string) (*IssuedTicket, error) {
	now := a.now()
	tok, hash, err := a.newToken()
	if err != nil {
		return nil, err
	}
	t := &atrium.Ticket{AccountID: p.Account.ID, SessionID: p.Session.ID, Purpose: purpose, Method: method, CreatedAt: now, ExpiresAt: now.Add(a.Config.TicketTTL)}
	if err := tx.InsertTicket(ctx, t, hash); err != nil {
		return nil, err
	}
	ev := accountEvent(p.Account, "verification", p.ClientIP)
	ev.Detail = "purpose=" + purpose + " method=" + method
	if err := a.event(ctx, tx, ev); err != nil {
		return nil, err
	}
	return &IssuedTicket{Ticket: tok, ExpiresAt: t.ExpiresAt}, nil
}

// useTicket consumes a ticket inside tx; ETicketInvalid unless it is the
// principal's, for purpose, unused and unexpired.
func (a *App) useTicket(ctx context.Context, tx *store.Tx, p *Principal, ticket, purpose string) error {
	if ticket == "" || len(ticket) > 128 {
		return atrium.Errorf(atrium.ETicketInvalid, "Verify your identity first.")
	}
	_, err := tx.UseTicket(ctx, HashToken(ticket), p.Account.ID, p.Session.ID, purpose, a.now())
	return err
}

func (a *App) freshAccount(ctx context.Context, id int64) (*atrium.Account, error) {
	var acc *atrium.Account
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		acc, err = tx.AccountByID(ctx, id)
		return err
	})
	return acc, err
}

// CheckPassword returns the policy's reasons against pw for acc, including
// "reused" when pw is one of the account's last Policy.History passwords.
// EWeakPassword with "reasons" if any.
func (a *App) CheckPassword(ctx context.Context, acc *atrium.Account, pw string) error {
	reasons := a.Policy.Check(pw, password.Context{Username: acc.Username, Email: acc.Email, Phone: acc.Phone})
	if len(reasons) == 0 && a.Policy.History > 0 && acc.PasswordHash != "" {
		hashes := []string{acc.PasswordHash}
		err := a.DB.View(ctx, func(tx *store.Tx) error {
			old, err := tx.PasswordHistory(ctx, acc.ID, a.Policy.History-1)
			hashes = append(hashes, old...)
			return err
		})
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if ok, _, err := a.Hasher.Verify(ctx, pw, h); err != nil {
				return err
			} else if ok {
				reasons = append(reasons, ReasonReused)
				break
			}
		}
	}
	if len(reasons) > 0 {
		return atrium.Errorf(atrium.EWeakPassword, "The password does not meet the password rules.").With("reasons", reasons)
	}
	return nil
}

// nextChange formats when a password changed at t must be changed next, or ""
// when passwords do not expire.
func (a *App) nextChange(t time.Time) string {
	if a.Config.PasswordValidity <= 0 {
		return ""
	}
	return t.Add(a.Config.PasswordValidity).Format("2006-01-02")
}

// ReasonReused is the policy reason for a password used recently.
const ReasonReused = "reused"

// ChangePassword sets a new password with a ticket for purpose "password". Every
// other session of the account ends. It returns when the new password expires
// (nil if never). ETicketInvalid without a good ticket; EWeakPassword with
// reasons.
func (a *App) ChangePassword(ctx context.Context, p *Principal, ticket, newPassword string) (*time.Time, error) {
	acc, err := a.freshAccount(ctx, p.Account.ID)
	if err != nil {
		return nil, err
	}
	if err := a.CheckPassword(ctx, acc, newPassword); err != nil {
		return nil, err
	}
	hash, err := a.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	now := a.now()
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposePassword); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, acc.ID, acc.PasswordHash, hash, now, false, max(a.Policy.History, 1)); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, acc.ID, p.Session.ID); err != nil {
			return err
		}
		if err := a.event(ctx, tx, accountEvent(acc, "password.change", p.ClientIP)); err != nil {
			return err
		}
		return a.notice(ctx, tx, acc, notify.KindPasswordChanged, map[string]string{"NextChange": a.nextChange(now)})
	})
	if err != nil {
		return nil, err
	}
	p.Account.PasswordHash, p.Account.PasswordChangedAt, p.Account.PasswordMustChange = hash, now, false
	return a.PasswordExpiresAt(p.Account), nil
}
