package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultTwilioBaseURL is Twilio's API root, used when TwilioConfig.BaseURL
// is empty.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// TwilioConfig configures a Twilio sender.
type TwilioConfig struct {
	// BaseURL is the API root; empty means DefaultTwilioBaseURL. Tests and
	// Twilio-compatible providers set their own.
	BaseURL string
	// AccountSID and AuthToken are the HTTP basic auth credentials;
	// AccountSID also names the account in the request path.
	AccountSID string
	AuthToken  string
	// From is the sending number or alphanumeric sender ID, and
	// MessagingServiceSID a Messaging Service; at least one is required.
	From                string
	MessagingServiceSID string
	// Timeout bounds sending one message; zero means DefaultTimeout.
	Timeout time.Duration
	// Client is the HTTP client to use; nil means a client with Timeout
	// that does not follow redirects.
	Client *http.Client
}

// String returns a description of c with the auth token redacted.
func (c TwilioConfig) String() string {
	return fmt.Sprintf("sms.TwilioConfig{BaseURL: %s, AccountSID: %q, AuthToken: %s, From: %q, MessagingServiceSID: %q, Timeout: %s}",
		safeRawURL(c.BaseURL), c.AccountSID, redacted(c.AuthToken), c.From, c.MessagingServiceSID, c.Timeout)
}

// GoString returns the same redacted description as String.
func (c TwilioConfig) GoString() string { return c.String() }

// Format writes the redacted description of c for every formatting verb.
func (c TwilioConfig) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue returns the redacted attributes of c for log/slog.
func (c TwilioConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", safeRawURL(c.BaseURL)),
		slog.String("account_sid", c.AccountSID),
		slog.String("auth_token", redacted(c.AuthToken)),
		slog.String("from", c.From),
		slog.String("messaging_service_sid", c.MessagingServiceSID),
		slog.Duration("timeout", c.Timeout),
	)
}

// Twilio sends messages with Twilio's Messages API: a form-encoded POST to
// {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with HTTP basic
// auth. A 2xx answer (Twilio answers 201 Created) means the message was
// accepted. It is safe for concurrent use.
type Twilio struct {
	endpoint   *url.URL
	accountSID string
	authToken  string
	from       string
	serviceSID string
	timeout    time.Duration
	client     *http.Client
}

var _ Sender = (*Twilio)(nil)

// twilioSID matches an account or service SID; Twilio's are two letters and
// 32 hex digits, compatible providers may differ.
var twilioSID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// NewTwilio validates cfg and returns a Twilio sender for it.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultTwilioBaseURL
	}
	u, err := endpoint("Twilio BaseURL", base)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.User != nil {
		return nil, errors.New("sms: Twilio BaseURL must not have a query or user info")
	}
	if !twilioSID.MatchString(cfg.AccountSID) {
		return nil, errors.New("sms: Twilio AccountSID is missing or malformed")
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("sms: Twilio AuthToken is required")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, errors.New("sms: Twilio needs From or MessagingServiceSID")
	}
	if cfg.MessagingServiceSID != "" && !twilioSID.MatchString(cfg.MessagingServiceSID) {
		return nil, errors.New("sms: Twilio MessagingServiceSID is malformed")
	}
	if strings.ContainsFunc(cfg.From, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("sms: Twilio From contains control characters")
	}
	timeout, err := timeoutOrDefault(cfg.Timeout)
	if err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		client = defaultClient(timeout)
	}
	u = u.JoinPath("2010-04-01", "Accounts", cfg.AccountSID, "Messages.json")
	return &Twilio{
		endpoint:   u,
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		from:       cfg.From,
		serviceSID: cfg.MessagingServiceSID,
		timeout:    timeout,
		client:     client,
	}, nil
}

// String returns a description of t with the auth token redacted.
func (t Twilio) String() string {
	return fmt.Sprintf("sms.Twilio{URL: %s, AccountSID: %q, AuthToken: %s, From: %q, MessagingServiceSID: %q, Timeout: %s}",
		safeURL(t.endpoint), t.accountSID, redacted(t.authToken), t.from, t.serviceSID, t.timeout)
}

// GoString returns the same redacted description as String.
func (t Twilio) GoString() string { return t.String() }

// Format writes the redacted description of t for every formatting verb.
func (t Twilio) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// LogValue returns the redacted attributes of t for log/slog.
func (t Twilio) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", safeURL(t.endpoint)),
		slog.String("account_sid", t.accountSID),
		slog.String("auth_token", redacted(t.authToken)),
		slog.String("from", t.from),
		slog.String("messaging_service_sid", t.serviceSID),
		slog.Duration("timeout", t.timeout),
	)
}

// twilioError is the body of a Twilio error answer.
type twilioError struct {
	Code    json.Number `json:"code"`
	Message string      `json:"message"`
}

// Send posts m and returns nil once Twilio has accepted it. Errors are of
// type *Error; for a Twilio error answer they carry its code and a sanitised
// excerpt of its message.
func (t *Twilio) Send(ctx context.Context, m Message) error {
	const provider = "twilio"
	secrets := append([]string{t.authToken}, messageSecrets(m.Text)...)
	if err := validate(m); err != nil {
		return &Error{Provider: provider, Op: "validate", Permanent: true, Excerpt: err.Error(), Err: err}
	}
	form := url.Values{}
	form.Set("To", m.To)
	if t.from != "" {
		form.Set("From", t.from)
	}
	if t.serviceSID != "" {
		form.Set("MessagingServiceSid", t.serviceSID)
	}
	form.Set("Body", m.Text)
	req, err := http.NewRequest(http.MethodPost, t.endpoint.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return &Error{Provider: provider, Op: "request", Excerpt: "building the request failed", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(t.accountSID, t.authToken)
	ans, err := post(ctx, t.client, t.timeout, req, provider, secrets)
	if err != nil || ans == nil {
		return err
	}
	e := &Error{
		Provider:   provider,
		Op:         "response",
		StatusCode: ans.status,
		RetryAfter: ans.retryAfter,
		Permanent:  permanentStatus(ans.status),
	}
	var te twilioError
	if json.Unmarshal(ans.body, &te) == nil && (te.Code != "" || te.Message != "") {
		e.ProviderCode = sanitize(te.Code.String(), nil)
		e.Excerpt = sanitize(te.Message, secrets)
	} else {
		e.Excerpt = sanitize(string(ans.body), secrets)
	}
	return e
}
