package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// Outbox queues messages inside a store transaction; notify.Queue is the one
// implementation.
type Outbox interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// Code purposes beyond the verification purposes of atrium.Purposes.
const (
	codeLinkEmail = "link_email"
	codeLinkPhone = "link_phone"
	codeLogin     = "login"
	codeRecovery  = "recovery"
)

// CodeSent describes a code on its way, without the code.
type CodeSent struct {
	SentTo      string // masked address
	ExpiresIn   time.Duration
	ResendAfter time.Duration
}

// codeSpec is a code to issue.
type codeSpec struct {
	scope       store.CodeScope
	destination string
	ticketID    int64
	clientIP    string
	lang        string
}

// newCode returns 6 decimal digits from the random source, uniformly.
func (a *App) newCode() (string, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(a.Rand, b[:]); err != nil {
			return "", err
		}
		v := binary.BigEndian.Uint32(b[:])
		if v < math.MaxUint32-math.MaxUint32%1000000 {
			return fmt.Sprintf("%06d", v%1000000), nil
		}
	}
}

// codeHash is the keyed hash a code is stored under: HMAC-SHA256 with the
// server secret over the scope and the code, so a database alone cannot be
// searched for the code.
func (a *App) codeHash(purpose, channel, destination, code string) []byte {
	m := hmac.New(sha256.New, a.Secret)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%s", purpose, channel, destination, code)
	return m.Sum(nil)
}

func retryAfter(d time.Duration) *atrium.Error {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return atrium.Errorf(atrium.ERateLimited, "Too many codes. Try again in %d seconds.", secs).With("retry_after", secs)
}

// issueCode makes, stores and sends a code, within the limits: one code per
// destination every Config.CodeResend, Config.CodesPerAccountHour per account,
// Config.CodesPerDestinationDay per destination and Config.CodesPerClientHour
// per client address. The limits are counted in the database under locks, so
// several nodes share them. ERateLimited with retry_after when one is reached.
func (a *App) issueCode(ctx context.Context, s codeSpec) (*CodeSent, error) {
	code, err := a.newCode()
	if err != nil {
		return nil, err
	}
	now := a.now()
	c := &store.Code{
		AccountID: s.scope.AccountID, SessionID: s.scope.SessionID, ChallengeID: s.scope.ChallengeID, TicketID: s.ticketID,
		Purpose: s.scope.Purpose, Channel: s.scope.Channel, Destination: s.destination, ClientIP: s.clientIP,
		CreatedAt: now, ExpiresAt: now.Add(a.Config.CodeTTL),
	}
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.LockKeys(ctx, "code-dest:"+s.destination, fmt.Sprintf("code-account:%d", s.scope.AccountID), "code-client:"+s.clientIP); err != nil {
			return err
		}
		st, err := tx.CodeStats(ctx, s.scope.AccountID, s.destination, s.clientIP, now.Add(-time.Hour), now.Add(-24*time.Hour), now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if st.LastToDestination != nil {
			if wait := st.LastToDestination.Add(a.Config.CodeResend).Sub(now); wait > 0 {
				return retryAfter(wait)
			}
		}
		if st.Account >= a.Config.CodesPerAccountHour || st.Client >= a.Config.CodesPerClientHour {
			return retryAfter(time.Hour)
		}
		if st.Destination >= a.Config.CodesPerDestinationDay {
			return retryAfter(24 * time.Hour)
		}
		if err := tx.InsertCode(ctx, c, a.codeHash(c.Purpose, c.Channel, c.Destination, code)); err != nil {
			return err
		}
		return a.Notify.Enqueue(ctx, tx, notify.Message{
			AccountID: s.scope.AccountID, Channel: s.scope.Channel, To: s.destination, Kind: notify.KindCode, Lang: s.lang, Sensitive: true,
			Data: map[string]string{"Code": code, "Minutes": fmt.Sprint(int(a.Config.CodeTTL.Minutes())), "Purpose": s.scope.Purpose},
		})
	})
	if err != nil {
		return nil, err
	}
	return &CodeSent{SentTo: atrium.MaskContact(s.destination), ExpiresIn: a.Config.CodeTTL, ResendAfter: a.Config.CodeResend}, nil
}

// redeemCode checks code against the active code of scope. A try is counted
// before the comparison, so at most Config.CodeMaxAttempts guesses are ever
// compared; after them the code is void. When the code is right, check (if
// set) runs, then — in one transaction — the code is marked used and then runs;
// of two concurrent redemptions exactly one gets there. fail is the error for a
// wrong, expired, used or void code.
func (a *App) redeemCode(ctx context.Context, scope store.CodeScope, code string, fail *atrium.Error, check func(*store.Code) error, then func(*store.Tx, *store.Code) error) error {
	now := a.now()
	var c *store.Code
	var hash []byte
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		c, hash, err = tx.ClaimCodeAttempt(ctx, scope, now, a.Config.CodeMaxAttempts)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return fail
	} else if err != nil {
		return err
	}
	if len(code) != 6 || !hmac.Equal(hash, a.codeHash(c.Purpose, c.Channel, c.Destination, code)) {
		return fail.With("attempts_left", max(a.Config.CodeMaxAttempts-c.Attempts, 0))
	}
	if check != nil {
		if err := check(c); err != nil {
			return err
		}
	}
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.UseCode(ctx, c.ID, a.now()); err != nil {
			if atrium.ErrorCode(err) == atrium.ENotFound {
				return fail
			}
			return err
		}
		return then(tx, c)
	})
}

// destination returns the account's linked address for a channel; ENotLinked
// when there is none.
func destination(acc *atrium.Account, channel string) (string, error) {
	switch channel {
	case atrium.MethodSMS:
		if acc.Phone != "" {
			return acc.Phone, nil
		}
		return "", atrium.Errorf(atrium.ENotLinked, "No phone number is linked to this account.").With("field", "channel")
	case atrium.MethodEmail:
		if acc.Email != "" {
			return acc.Email, nil
		}
		return "", atrium.Errorf(atrium.ENotLinked, "No email address is linked to this account.").With("field", "channel")
	}
	return "", atrium.Errorf(atrium.EInvalid, "The channel is sms or email.").With("field", "channel")
}

// SendCode sends a verification code for purpose to the principal's linked
// phone (channel "sms") or email ("email"). EInvalid for an unknown purpose or
// channel, ENotLinked when the channel has no address, ERateLimited.
func (a *App) SendCode(ctx context.Context, p *Principal, purpose, channel string) (*CodeSent, error) {
	if !atrium.ValidPurpose(purpose) {
		return nil, atrium.Errorf(atrium.EInvalid, "Unknown verification purpose.").With("field", "purpose")
	}
	acc, err := a.freshAccount(ctx, p.Account.ID)
	if err != nil {
		return nil, err
	}
	dest, err := destination(acc, channel)
	if err != nil {
		return nil, err
	}
	return a.issueCode(ctx, codeSpec{
		scope:       store.CodeScope{AccountID: acc.ID, SessionID: p.Session.ID, Purpose: purpose, Channel: channel},
		destination: dest, clientIP: p.ClientIP, lang: acc.Language,
	})
}

// notice queues a security notice to each linked channel of acc (or to the
// addresses given), outside the code limits.
func (a *App) notice(ctx context.Context, tx *store.Tx, acc *atrium.Account, kind string, data map[string]string) error {
	if data == nil {
		data = map[string]string{}
	}
	if _, ok := data["Username"]; !ok {
		data["Username"] = acc.Username
	}
	if _, ok := data["At"]; !ok {
		data["At"] = a.now().Format("2006-01-02 15:04 UTC")
	}
	for _, ch := range []struct{ channel, to string }{{notify.ChannelEmail, acc.Email}, {notify.ChannelSMS, acc.Phone}} {
		if ch.to == "" {
			continue
		}
		if err := a.Notify.Enqueue(ctx, tx, notify.Message{AccountID: acc.ID, Channel: ch.channel, To: ch.to, Kind: kind, Lang: acc.Language, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// noticeTo queues a notice to one address.
func (a *App) noticeTo(ctx context.Context, tx *store.Tx, acc *atrium.Account, channel, to, kind string, data map[string]string) error {
	if data == nil {
		data = map[string]string{}
	}
	data["Username"] = acc.Username
	if _, ok := data["At"]; !ok {
		data["At"] = a.now().Format("2006-01-02 15:04 UTC")
	}
	return a.Notify.Enqueue(ctx, tx, notify.Message{AccountID: acc.ID, Channel: channel, To: to, Kind: kind, Lang: acc.Language, Data: data})
}
