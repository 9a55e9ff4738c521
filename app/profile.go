package app

import (
	"context"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// ChangeUsername renames the principal's account with a ticket for purpose
// "username". Every session of the account ends, this one included: the user
// signs in again with the new name. EInvalid for a name that breaks the rules,
// EUsernameTaken, ETicketInvalid.
func (a *App) ChangeUsername(ctx context.Context, p *Principal, ticket, username string) error {
	username = strings.TrimSpace(username)
	if err := atrium.ValidateUsername(username); err != nil {
		return err
	}
	acc, err := a.freshAccount(ctx, p.Account.ID)
	if err != nil {
		return err
	}
	if username == acc.Username {
		return atrium.Errorf(atrium.EInvalid, "That is your username already.").With("field", "username").With("reason", "same_username")
	}
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposeUsername); err != nil {
			return err
		}
		if err := tx.SetUsername(ctx, acc.ID, username); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, acc.ID, 0); err != nil {
			return err
		}
		ev := accountEvent(acc, "username.change", p.ClientIP)
		if err := a.event(ctx, tx, ev); err != nil {
			return err
		}
		old := acc.Username
		acc.Username = username
		return a.notice(ctx, tx, acc, notify.KindUsernameChanged, map[string]string{"Old": old, "New": username})
	})
}

// normalizeAddress validates an email or phone for channel and returns its
// stored form: the trimmed email, or the phone in E.164.
func (a *App) normalizeAddress(channel, v string) (string, error) {
	if channel == atrium.MethodEmail {
		v = strings.TrimSpace(v)
		return v, ValidateEmail(v)
	}
	return NormalizePhone(v, a.Config.PhoneRegion)
}

// StartLink sends a code to a new email address (channel "email") or phone
// ("sms") with a ticket for purpose "email" or "phone". The ticket is spent when
// the code is confirmed, so "Send code" may be pressed again with it. Nothing
// is linked yet. EInvalid for a bad address, ETicketInvalid, ERateLimited.
func (a *App) StartLink(ctx context.Context, p *Principal, channel, ticket, address string) (*CodeSent, error) {
	purpose, codePurpose := atrium.PurposeEmail, codeLinkEmail
	if channel == atrium.MethodSMS {
		purpose, codePurpose = atrium.PurposePhone, codeLinkPhone
	}
	addr, err := a.normalizeAddress(channel, address)
	if err != nil {
		return nil, err
	}
	acc, err := a.freshAccount(ctx, p.Account.ID)
	if err != nil {
		return nil, err
	}
	if (channel == atrium.MethodEmail && strings.EqualFold(addr, acc.Email)) || (channel == atrium.MethodSMS && addr == acc.Phone) {
		return nil, atrium.Errorf(atrium.EInvalid, "That address is linked to your account already.").With("field", fieldOf(channel)).With("reason", "already_linked")
	}
	var t *atrium.Ticket
	err = a.DB.View(ctx, func(tx *store.Tx) error {
		if len(ticket) == 0 || len(ticket) > 128 {
			return atrium.Errorf(atrium.ETicketInvalid, "Verify your identity first.")
		}
		var err error
		t, err = tx.PeekTicket(ctx, HashToken(ticket), acc.ID, p.Session.ID, purpose, a.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return a.issueCode(ctx, codeSpec{
		scope:       store.CodeScope{AccountID: acc.ID, SessionID: p.Session.ID, Purpose: codePurpose, Channel: channel},
		destination: addr, ticketID: t.ID, clientIP: p.ClientIP, lang: acc.Language,
	})
}

func fieldOf(channel string) string {
	if channel == atrium.MethodSMS {
		return "phone"
	}
	return "email"
}

// ConfirmLink links the address that the code was sent to, spending the ticket
// that allowed it. The old address, if any, is told. EVerificationFailed for a
// wrong, expired or used code; EConflict when the address was linked to another
// account meanwhile (said only to whoever holds the address).
func (a *App) ConfirmLink(ctx context.Context, p *Principal, channel, code string) error {
	codePurpose := codeLinkEmail
	if channel == atrium.MethodSMS {
		codePurpose = codeLinkPhone
	}
	fail := atrium.Errorf(atrium.EVerificationFailed, "The code is wrong, expired or used.").With("field", "code")
	scope := store.CodeScope{AccountID: p.Account.ID, SessionID: p.Session.ID, Purpose: codePurpose, Channel: channel}
	return a.redeemCode(ctx, scope, strings.TrimSpace(code), fail, nil, func(tx *store.Tx, c *store.Code) error {
		if err := tx.ConsumeTicketByID(ctx, c.TicketID, a.now()); err != nil {
			return err
		}
		acc, err := tx.AccountByID(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		old := acc.Email
		if channel == atrium.MethodSMS {
			old = acc.Phone
			err = tx.SetPhone(ctx, acc.ID, c.Destination)
		} else {
			err = tx.SetEmail(ctx, acc.ID, c.Destination)
		}
		if err != nil {
			return err
		}
		action := fieldOf(channel) + ".link"
		if old != "" {
			action = fieldOf(channel) + ".change"
		}
		if err := a.event(ctx, tx, accountEvent(acc, action, p.ClientIP)); err != nil {
			return err
		}
		linked, changedOld := notify.KindEmailLinked, notify.KindEmailChangedOld
		if channel == atrium.MethodSMS {
			linked, changedOld = notify.KindPhoneLinked, notify.KindPhoneChangedOld
		}
		if old != "" {
			if err := a.noticeTo(ctx, tx, acc, channel, old, changedOld, map[string]string{"New": atrium.MaskContact(c.Destination)}); err != nil {
				return err
			}
		}
		return a.noticeTo(ctx, tx, acc, channel, c.Destination, linked, nil)
	})
}

// Unlink removes the linked email (channel "email") or phone ("sms") with a
// ticket for purpose "email" or "phone"; the address is told. ENotLinked when
// nothing is linked; EPhoneRequired for the phone while two-factor
// authentication is on.
func (a *App) Unlink(ctx context.Context, p *Principal, channel, ticket string) error {
	purpose := atrium.PurposeEmail
	if channel == atrium.MethodSMS {
		purpose = atrium.PurposePhone
	}
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		acc, err := tx.AccountByID(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		old, err := destination(acc, channel)
		if err != nil {
			return err
		}
		if channel == atrium.MethodSMS && acc.TwoFactorEnabled {
			return atrium.Errorf(atrium.EPhoneRequired, "Turn off dual-factor authentication before unlinking the phone number.")
		}
		if err := a.useTicket(ctx, tx, p, ticket, purpose); err != nil {
			return err
		}
		kind := notify.KindEmailUnlinked
		if channel == atrium.MethodSMS {
			err, kind = tx.SetPhone(ctx, acc.ID, ""), notify.KindPhoneUnlinked
		} else {
			err = tx.SetEmail(ctx, acc.ID, "")
		}
		if err != nil {
			return err
		}
		if err := a.event(ctx, tx, accountEvent(acc, fieldOf(channel)+".unlink", p.ClientIP)); err != nil {
			return err
		}
		return a.noticeTo(ctx, tx, acc, channel, old, kind, nil)
	})
}

// SetTwoFactor turns two-factor authentication on or off with a ticket for
// purpose "two_factor". Turning it on needs a linked phone: EPhoneRequired.
func (a *App) SetTwoFactor(ctx context.Context, p *Principal, ticket string, on bool) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		acc, err := tx.AccountByID(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		if on && acc.Phone == "" {
			return atrium.Errorf(atrium.EPhoneRequired, "Link a phone number before turning on dual-factor authentication.")
		}
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposeTwoFactor); err != nil {
			return err
		}
		if acc.TwoFactorEnabled == on {
			return nil
		}
		if err := tx.SetTwoFactor(ctx, acc.ID, on); err != nil {
			return err
		}
		action, kind := "two_factor.on", notify.KindTwoFactorOn
		if !on {
			action, kind = "two_factor.off", notify.KindTwoFactorOff
		}
		if err := a.event(ctx, tx, accountEvent(acc, action, p.ClientIP)); err != nil {
			return err
		}
		return a.notice(ctx, tx, acc, kind, nil)
	})
}

// NormalizePhone returns a phone number in E.164. A number without a country
// code is read as one of region (e.g. "CN"). EInvalid when it is not a valid
// number.
func NormalizePhone(s, region string) (string, error) {
	invalid := atrium.Errorf(atrium.EInvalid, "Enter a valid phone number, such as +86 138 0013 8000.").With("field", "phone")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", invalid
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", invalid
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
