// Package sms sends Atrium's verification codes and security notices as text
// messages through an HTTP API: a generic JSON endpoint (HTTPJSON) or Twilio
// and Twilio-compatible providers (Twilio).
//
// Errors returned by Send never contain the message text nor the provider
// credentials; IsPermanent tells a caller whether retrying can help.
package sms

import (
	"context"
	"errors"
	"fmt"
	"github.com/atrium-console/atrium/redact"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is the time allowed for sending one message when a
// configuration's Timeout is zero.
const DefaultTimeout = 15 * time.Second

// maxAnswer is the most bytes of a provider's answer that are read.
const maxAnswer = 64 << 10

// userAgent is the User-Agent of every request.
const userAgent = "atrium"

// Message is one text message to send.
type Message struct {
	To      string // recipient phone number in E.164 form, such as +8613800138000
	Subject string // unused: email only
	Text    string // the whole message
	HTML    string // unused: email only
}

// Sender sends text messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// e164 matches an E.164 phone number.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validate checks m before anything is sent.
func validate(m Message) error {
	if !e164.MatchString(m.To) {
		return errors.New("recipient is not an E.164 phone number")
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("text is empty")
	}
	return nil
}

// endpoint checks that raw is an absolute http or https URL.
func endpoint(name, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		// The parse error quotes the URL, which may hold a secret.
		return nil, fmt.Errorf("sms: %s is not a valid URL", name)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("sms: %s scheme must be http or https, not %q", name, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("sms: %s has no host", name)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("sms: %s must not have a fragment", name)
	}
	return u, nil
}

// safeURL returns u without user info or query, which may hold secrets.
func safeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	return c.String()
}

// safeRawURL is safeURL for a URL that may not parse.
func safeRawURL(raw string) string {
	if raw == "" {
		return `""`
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	return safeURL(u)
}

// urlSecrets returns the parts of u that must not appear in an error.
func urlSecrets(u *url.URL) []string {
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				// Shorter values would garble excerpts and are no secret.
				if len(v) >= redact.MinWordSecret {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// timeoutOrDefault returns d, DefaultTimeout when d is zero, or an error.
func timeoutOrDefault(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, errors.New("sms: Timeout must not be negative")
	case d == 0:
		return DefaultTimeout, nil
	}
	return d, nil
}

// defaultClient returns an HTTP client that gives up after timeout and does
// not follow redirects, which would carry the credentials elsewhere.
func defaultClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// answer is a provider's answer that was not a success.
type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// post sends req with client, bounded by timeout, and returns nil for a 2xx
// answer. Any other answer is returned as *answer; a transport failure as an
// *Error.
func post(ctx context.Context, client *http.Client, timeout time.Duration, req *http.Request, provider string, secrets []string) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, which may hold a secret: keep only
		// its cause.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		if ctxErr := ctxError(ctx); ctxErr != nil {
			cause = ctxErr
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, &Error{Provider: provider, Op: "request", Excerpt: sanitize(cause.Error(), secrets), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The provider accepted the message; a broken answer body must not
		// make the worker send it again.
		return nil, nil
	}
	if err != nil && len(body) == 0 {
		body = []byte("(answer unreadable: " + err.Error() + ")")
	}
	return &answer{status: resp.StatusCode, body: body, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}, nil
}

// ctxError returns ctx.Err(), or context.DeadlineExceeded once the deadline
// of ctx has passed even if its timer has not fired yet.
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// retryAfter parses a Retry-After header value, returning 0 when absent or
// invalid.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// permanentStatus reports whether an HTTP status means that retrying the
// same request cannot succeed: any 4xx except 408 Request Timeout and 429
// Too Many Requests, and redirects, which only a configuration change fixes.
func permanentStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return false
	case code >= 300 && code < 500:
		return true
	}
	return false
}

// formatRedacted writes s for any verb; %q quotes it.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// redacted describes whether a secret is set without revealing it.
func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[REDACTED]"
}
