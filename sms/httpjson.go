package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// HTTPJSONConfig configures an HTTPJSON sender.
type HTTPJSONConfig struct {
	// URL is the http or https endpoint that messages are posted to.
	URL string
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
	// SenderID, when set, is sent as the "sender" field.
	SenderID string
	// Timeout bounds sending one message; zero means DefaultTimeout.
	Timeout time.Duration
	// Client is the HTTP client to use; nil means a client with Timeout
	// that does not follow redirects.
	Client *http.Client
}

// String returns a description of c with the token and any URL secrets
// redacted.
func (c HTTPJSONConfig) String() string {
	return fmt.Sprintf("sms.HTTPJSONConfig{URL: %s, Token: %s, SenderID: %q, Timeout: %s}",
		safeRawURL(c.URL), redacted(c.Token), c.SenderID, c.Timeout)
}

// GoString returns the same redacted description as String.
func (c HTTPJSONConfig) GoString() string { return c.String() }

// Format writes the redacted description of c for every formatting verb.
func (c HTTPJSONConfig) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue returns the redacted attributes of c for log/slog.
func (c HTTPJSONConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", safeRawURL(c.URL)),
		slog.String("token", redacted(c.Token)),
		slog.String("sender", c.SenderID),
		slog.Duration("timeout", c.Timeout),
	)
}

// HTTPJSON posts each message as a JSON object
//
//	{"to": "+8613800138000", "text": "...", "sender": "Atrium"}
//
// ("sender" only when a SenderID is configured) to one URL. Any 2xx answer
// means the message was accepted. It is safe for concurrent use.
type HTTPJSON struct {
	url      *url.URL
	token    string
	senderID string
	timeout  time.Duration
	client   *http.Client
}

var _ Sender = (*HTTPJSON)(nil)

// NewHTTPJSON validates cfg and returns an HTTPJSON sender for it.
func NewHTTPJSON(cfg HTTPJSONConfig) (*HTTPJSON, error) {
	u, err := endpoint("HTTPJSON URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	timeout, err := timeoutOrDefault(cfg.Timeout)
	if err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		client = defaultClient(timeout)
	}
	return &HTTPJSON{url: u, token: cfg.Token, senderID: cfg.SenderID, timeout: timeout, client: client}, nil
}

// String returns a description of h with its secrets redacted.
func (h HTTPJSON) String() string {
	return fmt.Sprintf("sms.HTTPJSON{URL: %s, Token: %s, SenderID: %q, Timeout: %s}",
		safeURL(h.url), redacted(h.token), h.senderID, h.timeout)
}

// GoString returns the same redacted description as String.
func (h HTTPJSON) GoString() string { return h.String() }

// Format writes the redacted description of h for every formatting verb.
func (h HTTPJSON) Format(f fmt.State, verb rune) { formatRedacted(f, verb, h.String()) }

// LogValue returns the redacted attributes of h for log/slog.
func (h HTTPJSON) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", safeURL(h.url)),
		slog.String("token", redacted(h.token)),
		slog.String("sender", h.senderID),
		slog.Duration("timeout", h.timeout),
	)
}

// httpJSONRequest is the body that HTTPJSON posts.
type httpJSONRequest struct {
	To     string `json:"to"`
	Text   string `json:"text"`
	Sender string `json:"sender,omitempty"`
}

// Send posts m and returns nil once the endpoint has answered with a 2xx
// status. Errors are of type *Error.
func (h *HTTPJSON) Send(ctx context.Context, m Message) error {
	const provider = "httpjson"
	secrets := append([]string{h.token}, urlSecrets(h.url)...)
	secrets = append(secrets, messageSecrets(m.Text)...)
	if err := validate(m); err != nil {
		return &Error{Provider: provider, Op: "validate", Permanent: true, Excerpt: err.Error(), Err: err}
	}
	body, err := json.Marshal(httpJSONRequest{To: m.To, Text: m.Text, Sender: h.senderID})
	if err != nil {
		return &Error{Provider: provider, Op: "validate", Permanent: true, Excerpt: "encoding the request failed", Err: err}
	}
	req, err := http.NewRequest(http.MethodPost, h.url.String(), bytes.NewReader(body))
	if err != nil {
		return &Error{Provider: provider, Op: "request", Excerpt: "building the request failed", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	ans, err := post(ctx, h.client, h.timeout, req, provider, secrets)
	if err != nil || ans == nil {
		return err
	}
	return &Error{
		Provider:   provider,
		Op:         "response",
		StatusCode: ans.status,
		Excerpt:    sanitize(string(ans.body), secrets),
		RetryAfter: ans.retryAfter,
		Permanent:  permanentStatus(ans.status),
	}
}
