// Package atrium holds the domain of Atrium, the account center ("Personal Center")
// of a multi-tenant cloud console: accounts of managed service providers (MSPs) and
// tenants, agreements and their signings, sessions, verification tickets and audit
// events, with the error codes every layer shares. It imports only the standard
// library; the store, the web layer and the use cases live in packages named after
// what they wrap.
package atrium

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: the JSON API returns them as `code` and the console
// translates them. The web layer owns the single code → HTTP status table.
const (
	EInvalid            = "invalid"              // the input breaks a rule
	EMalformed          = "malformed_request"    // the body cannot be read as the route expects
	ENotFound           = "not_found"            // the thing does not exist or is not the caller's
	EConflict           = "conflict"             // a uniqueness or state conflict
	EUnauthorized       = "unauthorized"         // no valid session or token
	EForbidden          = "forbidden"            // signed in, but not allowed
	EInvalidCredentials = "invalid_credentials"  // sign-in failed
	EAccountLocked      = "account_locked"       // too many failed sign-ins
	EActionRequired     = "action_required"      // a pending action must be cleared first
	EWeakPassword       = "weak_password"        // the password breaks the policy
	EVerificationFailed = "verification_failed"  // identity verification failed
	ETicketInvalid      = "ticket_invalid"       // the ticket is unknown, used, expired or for another purpose
	EUsernameTaken      = "username_taken"       // the username is in use
	ERateLimited        = "rate_limited"         // slow down
	ETooLarge           = "too_large"            // the body is too large
	EUnsupportedMedia   = "unsupported_media"    // the content type is not accepted
	EUnsupportedImage   = "unsupported_image"    // the upload is not a JPEG, PNG, GIF or WebP image within bounds
	EUnavailable        = "unavailable"          // a dependency is down
	EInternal           = "internal"             // a bug; details are logged, never shown
	EAgreementOutdated  = "agreement_outdated"   // the signed version is not the current one
	ESecondFactor       = "second_factor_failed" // the second factor was wrong or expired
	EPhoneRequired      = "phone_required"       // two-factor authentication needs a linked phone
	ENotLinked          = "not_linked"           // the channel has no linked address
	EDeletionBlocked    = "deletion_blocked"     // something still blocks deleting the MSP
	ETermsNotAccepted   = "terms_not_accepted"   // the deletion terms were not accepted
)

// Error is the one error type of Atrium. Code is machine-readable and stable;
// Message is a human-readable English sentence safe to show to the caller. Details
// carries structured data for the API (reasons, locked_until, pending actions).
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("atrium error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with key set to value in Details.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and EInternal
// otherwise — an error without a code is a bug.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of err if it is an *Error, and a generic
// sentence otherwise, so internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorDetails returns the details of err if it is an *Error.
func ErrorDetails(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
