package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// RequestRecovery sends a password recovery code to the linked phone (channel
// "sms") or email ("email") of the account with the identifier. It answers the
// same — nil — whether or not the account exists, has that channel linked, or
// has reached a sending limit; only a malformed request is an error (EInvalid).
// An audit event is written either way.
func (a *App) RequestRecovery(ctx context.Context, identifier, channel, clientIP string) error {
	if channel != atrium.MethodSMS && channel != atrium.MethodEmail {
		return atrium.Errorf(atrium.EInvalid, "The channel is sms or email.").With("field", "channel")
	}
	acc, _ := a.accountByIdentifier(ctx, identifier)
	ev := atrium.Event{Action: "recovery.request", ClientIP: clientIP, Detail: "channel=" + channel}
	if acc != nil {
		ev.AccountID, ev.MSPID = acc.ID, acc.MSPID
	} else {
		ev.Outcome, ev.Detail = atrium.OutcomeFailure, ev.Detail+" unknown_identifier"
	}
	if err := a.DB.Update(ctx, func(tx *store.Tx) error { return a.event(ctx, tx, ev) }); err != nil {
		return err
	}
	if acc == nil {
		return nil
	}
	dest, err := destination(acc, channel)
	if err != nil {
		return nil
	}
	_, err = a.issueCode(ctx, codeSpec{
		scope:       store.CodeScope{AccountID: acc.ID, Purpose: codeRecovery, Channel: channel},
		destination: dest, clientIP: clientIP, lang: acc.Language,
	})
	if err != nil && atrium.ErrorCode(err) == atrium.EInternal {
		return err
	}
	return nil
}

func (a *App) accountByIdentifier(ctx context.Context, identifier string) (*atrium.Account, error) {
	usernameKey, emailKey, phone := a.identifierKeys(identifier)
	if usernameKey == "" {
		return nil, atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	var acc *atrium.Account
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		acc, err = tx.AccountByIdentifier(ctx, usernameKey, emailKey, phone)
		return err
	})
	return acc, err
}

// Recover sets a new password with a recovery code, on either channel. Every
// session ends, the sign-in lock is lifted and the linked channels are told.
// EVerificationFailed for an unknown identifier or a wrong, expired or void
// code, after the same work; EWeakPassword once the code is right.
func (a *App) Recover(ctx context.Context, identifier, code, newPassword, clientIP string) error {
	fail := atrium.Errorf(atrium.EVerificationFailed, "The account or the code is wrong, or the code expired.").With("field", "code")
	acc, err := a.accountByIdentifier(ctx, identifier)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		a.Hasher.VerifyDummy(ctx, newPassword)
		return fail
	} else if err != nil {
		return err
	}
	var hash string
	check := func(*store.Code) error {
		if err := a.CheckPassword(ctx, acc, newPassword); err != nil {
			return err
		}
		var err error
		hash, err = a.Hasher.Hash(ctx, newPassword)
		return err
	}
	code = strings.TrimSpace(code)
	for _, channel := range []string{atrium.MethodSMS, atrium.MethodEmail} {
		scope := store.CodeScope{AccountID: acc.ID, Purpose: codeRecovery, Channel: channel}
		err = a.redeemCode(ctx, scope, code, fail, check, func(tx *store.Tx, _ *store.Code) error {
			now := a.now()
			if err := tx.SetPassword(ctx, acc.ID, acc.PasswordHash, hash, now, false, max(a.Policy.History, 1)); err != nil {
				return err
			}
			if err := tx.RecordLoginSuccess(ctx, acc.ID, now); err != nil { // lifts a lock
				return err
			}
			if _, err := tx.DeleteSessions(ctx, acc.ID, 0); err != nil {
				return err
			}
			if err := a.event(ctx, tx, accountEvent(acc, "password.reset", clientIP)); err != nil {
				return err
			}
			return a.notice(ctx, tx, acc, notify.KindPasswordReset, map[string]string{"NextChange": a.nextChange(now)})
		})
		if atrium.ErrorCode(err) != atrium.EVerificationFailed {
			return err
		}
	}
	return err
}

// RemindPasswordExpiry emails every account whose password expires within
// Config.ReminderBefore and that was not reminded since its last change. Several
// nodes may run it at once: each account is claimed by a conditional update
// before its message is queued. It returns how many were reminded.
func (a *App) RemindPasswordExpiry(ctx context.Context) (int, error) {
	if a.Config.PasswordValidity <= 0 {
		return 0, nil
	}
	now := a.now()
	// Expires in (now, now+ReminderBefore] ⇔ changed in (now−validity, now−validity+ReminderBefore].
	from := now.Add(-a.Config.PasswordValidity)
	to := from.Add(a.Config.ReminderBefore)
	n := 0
	for {
		var due []*atrium.Account
		err := a.DB.View(ctx, func(tx *store.Tx) error {
			var err error
			due, err = tx.AccountsDueReminder(ctx, from, to, 100)
			return err
		})
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, acc := range due {
			err := a.DB.Update(ctx, func(tx *store.Tx) error {
				if err := tx.MarkReminded(ctx, acc.ID, now); err != nil {
					return err
				}
				exp := acc.PasswordChangedAt.Add(a.Config.PasswordValidity).Format("2006-01-02")
				return a.noticeTo(ctx, tx, acc, notify.ChannelEmail, acc.Email, notify.KindPasswordReminder, map[string]string{"ExpiresAt": exp})
			})
			if err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
				return n, err
			}
			n++
		}
	}
}

// NotificationInput is a message from an integrating service to an account.
type NotificationInput struct {
	AccountID int64  `json:"account_id"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
}

// SendNotification sends a message from an integrating service (a service ticket, say) to
// the account's linked channels and returns them. ENotFound for an unknown
// account; ENotLinked when it has no email or phone; EInvalid for an empty or
// overlong subject or body.
func (a *App) SendNotification(ctx context.Context, in NotificationInput) ([]string, error) {
	in.Subject, in.Body = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body)
	if in.Subject == "" || len([]rune(in.Subject)) > 200 || strings.ContainsAny(in.Subject, "\r\n") {
		return nil, atrium.Errorf(atrium.EInvalid, "A subject of 1 to 200 characters on one line is required.").With("field", "subject")
	}
	if in.Body == "" || len(in.Body) > 10000 {
		return nil, atrium.Errorf(atrium.EInvalid, "A body of 1 to 10000 bytes is required.").With("field", "body")
	}
	var channels []string
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		acc, err := tx.AccountByID(ctx, in.AccountID)
		if err != nil {
			return err
		}
		for _, ch := range []struct{ channel, to string }{{notify.ChannelEmail, acc.Email}, {notify.ChannelSMS, acc.Phone}} {
			if ch.to == "" {
				continue
			}
			channels = append(channels, ch.channel)
			if err := a.Notify.Enqueue(ctx, tx, notify.Message{AccountID: acc.ID, Channel: ch.channel, To: ch.to, Kind: notify.KindNotification, Lang: acc.Language,
				Data: map[string]string{"Subject": in.Subject, "Body": in.Body}}); err != nil {
				return err
			}
		}
		if len(channels) == 0 {
			return atrium.Errorf(atrium.ENotLinked, "The account has no linked email address or phone number.")
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "notification.send", AccountID: acc.ID, MSPID: acc.MSPID, Detail: fmt.Sprintf("channels=%d", len(channels))})
	})
	return channels, err
}
