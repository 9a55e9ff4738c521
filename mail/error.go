package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"github.com/atrium-console/atrium/redact"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// maxExcerpt is the most bytes of a server's answer that an Error keeps.
const maxExcerpt = 200

// Error is the error returned by Sender.Send. Its text holds the SMTP reply
// code and a sanitised excerpt of the server's answer, and never the message
// body nor the password.
type Error struct {
	// Op is "validate" when the message was refused before any connection,
	// else "send".
	Op string
	// Code is the SMTP reply code, or 0 when the server gave none (for
	// example when it could not be reached).
	Code int
	// Excerpt is a short (at most 200 bytes), single-line, sanitised excerpt
	// of the failure, with secrets and message contents removed.
	Excerpt string
	// Permanent reports whether retrying the same message cannot succeed: an
	// invalid message or address, or an SMTP 5xx reply.
	Permanent bool
	// Err is the underlying error. Its own text is not sanitised.
	Err error
}

// Error returns "mail: OP failed (smtp CODE): EXCERPT".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mail: ")
	b.WriteString(e.Op)
	b.WriteString(" failed")
	if e.Code != 0 {
		b.WriteString(" (smtp ")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteString(")")
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
// message cannot fix: an invalid recipient or message, or an SMTP 5xx reply.
// Network failures, timeouts, cancellations and SMTP 4xx replies are
// temporary.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// classify turns an error of go-mail into an *Error.
func classify(ctx context.Context, err error, secrets []string) *Error {
	e := &Error{Op: "send", Code: smtpCode(err), Err: err}
	if e.Code == 0 {
		if ctxErr := ctxError(ctx); ctxErr != nil {
			// The connection was closed because ctx is done; report that
			// rather than the resulting "use of closed network connection".
			e.Err = ctxErr
			e.Excerpt = ctxErr.Error()
			return e
		}
	}
	e.Permanent = e.Code >= 500 && e.Code < 600
	e.Excerpt = sanitize(err.Error(), secrets)
	return e
}

// ctxError returns ctx.Err(), or context.DeadlineExceeded once the deadline
// of ctx has passed even if its timer has not fired yet (a connection
// deadline set to the same instant may fire first).
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// smtpCode returns the SMTP reply code carried by err, or 0.
func smtpCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if c := se.ErrorCode(); c != 0 {
			return c
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// messageSecrets returns the parts of a message that must not appear in an
// error (see redact.Secrets).
func messageSecrets(fields ...string) []string { return redact.Secrets(fields...) }

// sanitize returns an excerpt of s of at most maxExcerpt bytes without the
// secrets (see redact.Excerpt).
func sanitize(s string, secrets []string) string { return redact.Excerpt(s, secrets, maxExcerpt) }

// b64 returns s in standard base64, as SMTP AUTH sends it.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
