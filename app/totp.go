package app

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// The authenticator app (TOTP, RFC 6238): 6 digits, 30-second steps, one step
// of clock skew either way, SHA-1 as every authenticator app supports. Its
// secret is stored sealed with AES-256-GCM under a key derived from the server
// secret; a code is accepted once (the last step used is kept).
const (
	totpPeriod        = 30
	totpSkew          = 1
	recoveryCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: totpSkew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrollment is an authenticator being set up: the secret to type or scan.
type Enrollment struct {
	Secret string // base32
	URL    string // otpauth://totp/…
	QRPNG  []byte // the URL as a QR code
}

func (a *App) totpAEAD() (cipher.AEAD, error) {
	key := sha256.Sum256(append([]byte("atrium totp v1\x00"), a.Secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (a *App) sealSecret(secret string) ([]byte, error) {
	aead, err := a.totpAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(a.Rand, nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(secret), nil), nil
}

func (a *App) openSecret(sealed []byte) (string, error) {
	aead, err := a.totpAEAD()
	if err != nil {
		return "", err
	}
	n := aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("totp: sealed secret too short")
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], nil)
	return string(plain), err
}

// StartAuthenticator makes a new authenticator secret for the principal, with a
// ticket for purpose "two_factor" (spent by ConfirmAuthenticator). Nothing
// changes for sign-in until it is confirmed with a code.
func (a *App) StartAuthenticator(ctx context.Context, p *Principal, ticket string) (*Enrollment, error) {
	if err := a.peekTicket(ctx, p, ticket, atrium.PurposeTwoFactor); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Atrium", AccountName: p.Account.Username, Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: a.Rand})
	if err != nil {
		return nil, err
	}
	sealed, err := a.sealSecret(key.Secret())
	if err != nil {
		return nil, err
	}
	if err := a.DB.Update(ctx, func(tx *store.Tx) error {
		_, enabled, _, err := tx.TOTPSecret(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		if enabled {
			return atrium.Errorf(atrium.EConflict, "The authenticator app is on already; turn it off first to set up another.")
		}
		return tx.SetTOTPSecret(ctx, p.Account.ID, sealed)
	}); err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

func (a *App) peekTicket(ctx context.Context, p *Principal, ticket, purpose string) error {
	if ticket == "" || len(ticket) > 128 {
		return atrium.Errorf(atrium.ETicketInvalid, "Verify your identity first.")
	}
	return a.DB.View(ctx, func(tx *store.Tx) error {
		_, err := tx.PeekTicket(ctx, HashToken(ticket), p.Account.ID, p.Session.ID, purpose, a.now())
		return err
	})
}

// totpStep returns the time step whose code is code, or -1.
func (a *App) totpStep(secret, code string) int64 {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return -1
	}
	now := a.now()
	for k := -totpSkew; k <= totpSkew; k++ {
		t := now.Add(time.Duration(k*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod
		}
	}
	return -1
}

// useTOTP checks an authenticator code of the account inside tx and spends its
// time step; false for a wrong or replayed code.
func (a *App) useTOTP(ctx context.Context, tx *store.Tx, accountID int64, code string, mustBeOn bool) (bool, error) {
	sealed, enabled, _, err := tx.TOTPSecret(ctx, accountID)
	if err != nil || sealed == nil || (mustBeOn && !enabled) {
		return false, err
	}
	secret, err := a.openSecret(sealed)
	if err != nil {
		return false, err
	}
	step := a.totpStep(secret, code)
	if step < 0 {
		return false, nil
	}
	if err := tx.AdvanceTOTPStep(ctx, accountID, step); err != nil {
		if atrium.ErrorCode(err) == atrium.ENotFound {
			return false, nil // replayed
		}
		return false, err
	}
	return true, nil
}

// ConfirmAuthenticator turns the authenticator on once the app shows a right
// code, spends the ticket, and returns 10 recovery codes, shown only now.
// EVerificationFailed for a wrong code; ETicketInvalid.
func (a *App) ConfirmAuthenticator(ctx context.Context, p *Principal, ticket, code string) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 5)
		if _, err := io.ReadFull(a.Rand, b); err != nil {
			return nil, err
		}
		s := strings.ToLower(base32.StdEncoding.EncodeToString(b)) // 8 characters
		codes[i] = s[:4] + "-" + s[4:]
		hashes[i] = a.recoveryHash(codes[i])
	}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposeTwoFactor); err != nil {
			return err
		}
		ok, err := a.useTOTP(ctx, tx, p.Account.ID, code, false)
		if err != nil {
			return err
		}
		if !ok {
			return atrium.Errorf(atrium.EVerificationFailed, "The code from the authenticator app is wrong. Check the app's clock and try the newest code.").With("field", "code")
		}
		if err := tx.EnableTOTP(ctx, p.Account.ID); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, p.Account.ID, hashes); err != nil {
			return err
		}
		if err := a.event(ctx, tx, accountEvent(p.Account, "authenticator.on", p.ClientIP)); err != nil {
			return err
		}
		return a.notice(ctx, tx, p.Account, notify.KindAuthenticatorOn, nil)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableAuthenticator turns the authenticator off with a ticket for purpose
// "two_factor"; its secret and recovery codes are forgotten.
func (a *App) DisableAuthenticator(ctx context.Context, p *Principal, ticket string) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		_, enabled, _, err := tx.TOTPSecret(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		if !enabled {
			return atrium.Errorf(atrium.EConflict, "The authenticator app is off.")
		}
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposeTwoFactor); err != nil {
			return err
		}
		if err := tx.DisableTOTP(ctx, p.Account.ID); err != nil {
			return err
		}
		if err := a.event(ctx, tx, accountEvent(p.Account, "authenticator.off", p.ClientIP)); err != nil {
			return err
		}
		return a.notice(ctx, tx, p.Account, notify.KindAuthenticatorOff, nil)
	})
}

// recoveryHash is the keyed hash a recovery code is stored under.
func (a *App) recoveryHash(code string) []byte {
	m := hmac.New(sha256.New, a.Secret)
	m.Write([]byte("recovery\x00" + strings.ToLower(strings.TrimSpace(code))))
	return m.Sum(nil)
}

// secondFactorTOTP checks the second factor of a sign-in by authenticator app
// inside tx: a code of the app or an unused recovery code, each good once.
func (a *App) secondFactorTOTP(ctx context.Context, tx *store.Tx, c *store.Challenge, code string, fail error) error {
	code = strings.TrimSpace(code)
	if strings.Contains(code, "-") {
		if err := tx.UseRecoveryCode(ctx, c.AccountID, a.recoveryHash(code), a.now()); err != nil {
			return fail
		}
		return nil
	}
	ok, err := a.useTOTP(ctx, tx, c.AccountID, code, true)
	if err != nil {
		return err
	}
	if !ok {
		return fail
	}
	return nil
}

// QRFor draws an otpauth URL as a QR code (PNG); "" URLs answer nil.
func QRFor(url string) []byte {
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		return nil
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	if png.Encode(&buf, img) != nil {
		return nil
	}
	return buf.Bytes()
}
