// Package app holds Atrium's use cases: sign-in with its gates, identity
// verification and tickets, agreements, and the operator's actions. Each use case
// runs in one store transaction carrying one "now", and records its audit event in
// that same transaction.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/media"
	"github.com/atrium-console/atrium/password"
	"github.com/atrium-console/atrium/store"
)

// Config holds the rules that an operator may tune. Zero values take the defaults
// of DefaultConfig.
type Config struct {
	SessionIdle      time.Duration // a session ends after this long without a request
	SessionAbsolute  time.Duration // a session ends this long after sign-in
	PasswordValidity time.Duration // 0: passwords never expire
	LockThreshold    int           // consecutive failed passwords that lock the account
	LockDuration     time.Duration // how long a lock lasts
	TicketTTL        time.Duration // how long a verification ticket is good for
	TouchInterval    time.Duration // how often a session's last activity is written

	CodeTTL                time.Duration // how long a verification code is good for
	CodeMaxAttempts        int           // wrong tries that void a code
	CodeResend             time.Duration // cooldown between codes to one destination
	CodesPerAccountHour    int           // codes an account may receive in an hour
	CodesPerDestinationDay int           // codes one address may receive in a day
	CodesPerClientHour     int           // codes one client address may ask for in an hour
	ChallengeTTL           time.Duration // how long a sign-in waits for its second factor
	ReminderBefore         time.Duration // how long before expiry the password reminder goes out
	PhoneRegion            string        // region of phone numbers typed without a country code, e.g. "CN"
	ExportsPerHour         int           // exports of personal data an account may make in an hour
	CheckTimeout           time.Duration // how long an external deletion checker may take
}

// DefaultConfig returns the rules of the specification.
func DefaultConfig() Config {
	return Config{
		SessionIdle:      30 * time.Minute,
		SessionAbsolute:  12 * time.Hour,
		PasswordValidity: 90 * 24 * time.Hour,
		LockThreshold:    5,
		LockDuration:     10 * time.Minute,
		TicketTTL:        5 * time.Minute,
		TouchInterval:    time.Minute,

		CodeTTL:                5 * time.Minute,
		CodeMaxAttempts:        5,
		CodeResend:             60 * time.Second,
		CodesPerAccountHour:    10,
		CodesPerDestinationDay: 10,
		CodesPerClientHour:     30,
		ChallengeTTL:           5 * time.Minute,
		ReminderBefore:         7 * 24 * time.Hour,
		PhoneRegion:            "CN",
		ExportsPerHour:         10,
		CheckTimeout:           5 * time.Second,
	}
}

// App runs the use cases. Every field is required.
type App struct {
	DB     *store.DB
	Hasher *password.Hasher
	Policy password.Policy
	Config Config
	Now    func() time.Time // the clock; tests move it
	Rand   io.Reader        // crypto/rand.Reader in production
	Log    *slog.Logger
	Notify Outbox // email and SMS, written in the same transaction as the change
	Secret []byte // at least 32 bytes: keys the hashes of verification codes
	Images *media.Processor

	Checkers []DeletionChecker // external order and resource checks

	// Failpoint, when set (tests only), is called between the steps of a
	// deletion; an error it returns aborts the deletion there.
	Failpoint func(step string) error
}

// Principal is a signed-in caller: the session and its account.
type Principal struct {
	Session  *atrium.Session
	Account  *atrium.Account
	ClientIP string
}

// Pending returns the actions the principal must take before anything else.
func (a *App) Pending(p *Principal) []string {
	return p.Account.Pending(a.Now(), a.Config.PasswordValidity)
}

// PasswordExpiresAt returns when the account's password must be changed, or nil.
func (a *App) PasswordExpiresAt(acc *atrium.Account) *time.Time {
	return acc.PasswordExpiresAt(a.Config.PasswordValidity)
}

func (a *App) now() time.Time { return a.Now().UTC() }

// newToken returns a 256-bit random token, URL-safe, and the SHA-256 under which it
// is stored. A token is never stored itself.
func (a *App) newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(a.Rand, b); err != nil {
		return "", nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, HashToken(tok), nil
}

// HashToken returns the SHA-256 of a session, ticket or operator token: a token
// has 256 bits of entropy, so a fast hash is enough to make a stolen database
// useless for signing in.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// event appends an audit event inside tx.
func (a *App) event(ctx context.Context, tx *store.Tx, e atrium.Event) error {
	if e.At.IsZero() {
		e.At = a.now()
	}
	if e.Actor == "" {
		e.Actor = "account"
	}
	if e.Outcome == "" {
		e.Outcome = atrium.OutcomeSuccess
	}
	return tx.InsertEvent(ctx, &e)
}

// accountEvent is the event for an action of acc.
func accountEvent(acc *atrium.Account, action, clientIP string) atrium.Event {
	return atrium.Event{AccountID: acc.ID, MSPID: acc.MSPID, Action: action, ClientIP: clientIP}
}
