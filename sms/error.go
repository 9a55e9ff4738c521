package sms

import (
	"errors"
	"github.com/atrium-console/atrium/redact"
	"strconv"
	"strings"
	"time"
)

// maxExcerpt is the most bytes of a provider's answer that an Error keeps.
const maxExcerpt = 200

// Error is the error returned by the senders of this package. Its text holds
// the provider, the HTTP status, the provider's own error code and a
// sanitised excerpt of its answer, and never the message text nor the
// credentials.
type Error struct {
	// Provider is "httpjson" or "twilio".
	Provider string
	// Op is "validate" when the message was refused before any request,
	// "request" when no answer arrived, or "response" for an answer that
	// was not a success.
	Op string
	// StatusCode is the HTTP status of the answer, or 0 without one.
	StatusCode int
	// ProviderCode is the provider's own error code, such as Twilio's
	// 21211, when the answer held one.
	ProviderCode string
	// Excerpt is a short (at most 200 bytes), single-line, sanitised excerpt
	// of the failure, with secrets and the message text removed.
	Excerpt string
	// RetryAfter is the delay the provider asked for in a Retry-After
	// header, or 0.
	RetryAfter time.Duration
	// Permanent reports whether retrying the same message cannot succeed: an
	// invalid recipient or message, or an HTTP 4xx answer other than 408 and
	// 429.
	Permanent bool
	// Err is the underlying error, if any. Its own text is not sanitised.
	Err error
}

// Error returns "sms: PROVIDER: OP failed (HTTP STATUS, code CODE): EXCERPT".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sms: ")
	b.WriteString(e.Provider)
	b.WriteString(": ")
	b.WriteString(e.Op)
	b.WriteString(" failed")
	switch {
	case e.StatusCode != 0 && e.ProviderCode != "":
		b.WriteString(" (HTTP " + strconv.Itoa(e.StatusCode) + ", code " + e.ProviderCode + ")")
	case e.StatusCode != 0:
		b.WriteString(" (HTTP " + strconv.Itoa(e.StatusCode) + ")")
	}
	if e.Excerpt != "" {
		b.WriteString(": ")
		b.WriteString(e.Excerpt)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a failure that retrying the same
// message cannot fix: an invalid recipient or message, or an HTTP 4xx
// answer other than 408 Request Timeout and 429 Too Many Requests. Network
// failures, timeouts, cancellations and 5xx answers are temporary.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// messageSecrets returns the parts of a message that must not appear in an
// error (see redact.Secrets).
func messageSecrets(fields ...string) []string { return redact.Secrets(fields...) }

// sanitize returns an excerpt of s of at most maxExcerpt bytes without the
// secrets (see redact.Excerpt).
func sanitize(s string, secrets []string) string { return redact.Excerpt(s, secrets, maxExcerpt) }
