package atrium

import "time"

// Session is a signed-in browser or API client. Only the SHA-256 of its token is
// stored; the token itself is shown once, at sign-in.
type Session struct {
	ID         int64
	AccountID  int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute end of the session
	ClientIP   string
	UserAgent  string
}

// Active reports whether the session is still valid at now with the given idle
// timeout.
func (s *Session) Active(now time.Time, idle time.Duration) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(idle))
}

// Verification purposes: a ticket is good for exactly one of them.
const (
	PurposeUsername      = "username"
	PurposeEmail         = "email"
	PurposePhone         = "phone"
	PurposePassword      = "password"
	PurposeTwoFactor     = "two_factor"
	PurposeDeleteAccount = "delete_account"
)

// Purposes lists every verification purpose.
var Purposes = []string{PurposeUsername, PurposeEmail, PurposePhone, PurposePassword, PurposeTwoFactor, PurposeDeleteAccount}

// ValidPurpose reports whether p is a verification purpose.
func ValidPurpose(p string) bool {
	for _, q := range Purposes {
		if p == q {
			return true
		}
	}
	return false
}

// Verification methods.
const (
	MethodPassword = "password"
	MethodSMS      = "sms"
	MethodEmail    = "email"
	MethodTOTP     = "totp" // the code of an authenticator app
)

// Ticket is the proof of a fresh identity verification: one use, bound to the
// account, the session and one purpose, valid for a short time.
type Ticket struct {
	ID        int64
	AccountID int64
	SessionID int64
	Purpose   string
	Method    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}
