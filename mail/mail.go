// Package mail sends Atrium's verification codes and security notices by
// email over SMTP.
//
// A Sender is configured with an SMTP URL:
//
//	smtp://user:pass@host:587               STARTTLS, required
//	smtp://user:pass@host:587?starttls=optional
//	smtp://host:25?starttls=off             no TLS at all
//	smtps://user:pass@host:465              implicit TLS
//
// The query may also hold auth=plain|login|cram-md5|none (default: plain
// when a user is given, else none) and insecure_skip_verify=1, which is for
// tests only. Unknown query parameters are rejected so that a typo cannot
// silently weaken the connection.
//
// Errors returned by Send never contain the message body or the SMTP
// password; IsPermanent tells a caller whether retrying can help.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout is the time allowed for sending one message when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Message is one email to send.
type Message struct {
	To      string // recipient email address
	Subject string // subject line, UTF-8
	Text    string // plain-text body
	HTML    string // HTML body; may be empty
}

// Config configures a Sender.
type Config struct {
	// URL is the SMTP server URL, for example
	// smtp://user:pass@host:587 or smtps://user:pass@host:465.
	URL string
	// From is the sender address, for example "Atrium <no-reply@example.com>".
	From string
	// Timeout bounds sending one message; zero means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig, when not nil, is the base TLS configuration (for example
	// with custom RootCAs); nil means the system roots. It is cloned, never
	// modified.
	TLSConfig *tls.Config
}

// String returns a description of c with the URL password redacted.
func (c Config) String() string {
	return fmt.Sprintf("mail.Config{URL: %s, From: %q, Timeout: %s}", redactURL(c.URL), c.From, c.Timeout)
}

// GoString returns the same redacted description as String, so that %#v
// does not print the password either.
func (c Config) GoString() string { return c.String() }

// Format writes the redacted description of c for every formatting verb.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue returns the redacted attributes of c for log/slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("from", c.From),
		slog.Duration("timeout", c.Timeout),
	)
}

// authNone selects no SMTP authentication.
const authNone gomail.SMTPAuthType = gomail.SMTPAuthNoAuth

// Sender sends email through one SMTP server. It is safe for concurrent use;
// every Send opens its own connection.
type Sender struct {
	host        string
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	tls         *tls.Config
	auth        gomail.SMTPAuthType
	user        string
	pass        string
	from        *mail.Address
	timeout     time.Duration
	helo        string
	safeURL     string // the URL with the password redacted
}

// New validates cfg and returns a Sender for it.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || cfg.URL == "" {
		// The parse error quotes the URL, which may hold a password.
		return nil, errors.New("mail: invalid SMTP URL")
	}
	s := &Sender{safeURL: u.Redacted()}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtps":
		s.port = gomail.DefaultPortSSL
		s.implicitTLS = true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("mail: SMTP URL must not have a path or fragment")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: SMTP URL has an invalid port %q", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}

	starttls, skipVerify, auth := "", false, ""
	for key, values := range u.Query() {
		if len(values) != 1 {
			return nil, fmt.Errorf("mail: SMTP URL parameter %q must be given once", key)
		}
		v := values[0]
		switch key {
		case "starttls":
			starttls = strings.ToLower(v)
		case "insecure_skip_verify":
			if skipVerify, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("mail: SMTP URL parameter insecure_skip_verify must be a boolean, not %q", v)
			}
		case "auth":
			auth = strings.ToLower(v)
		default:
			return nil, fmt.Errorf("mail: unknown SMTP URL parameter %q", key)
		}
	}

	s.policy = gomail.TLSMandatory
	switch starttls {
	case "", "required":
	case "optional":
		s.policy = gomail.TLSOpportunistic
	case "off":
		s.policy = gomail.NoTLS
	default:
		return nil, fmt.Errorf("mail: SMTP URL parameter starttls must be required, optional or off, not %q", starttls)
	}
	if s.implicitTLS && starttls != "" {
		return nil, errors.New("mail: SMTP URL parameter starttls does not apply to smtps")
	}

	switch auth {
	case "":
		s.auth = authNone
		if s.user != "" {
			s.auth = gomail.SMTPAuthPlain
		}
	case "plain":
		s.auth = gomail.SMTPAuthPlain
	case "login":
		s.auth = gomail.SMTPAuthLogin
	case "cram-md5":
		s.auth = gomail.SMTPAuthCramMD5
	case "none":
		s.auth = authNone
	default:
		return nil, fmt.Errorf("mail: SMTP URL parameter auth must be plain, login, cram-md5 or none, not %q", auth)
	}
	if s.auth != authNone && s.user == "" {
		return nil, fmt.Errorf("mail: SMTP auth %s needs a user in the URL", strings.ToLower(string(s.auth)))
	}

	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.host
	}
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	if skipVerify {
		s.tls.InsecureSkipVerify = true
	}

	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("mail: From address is required")
	}
	if s.from, err = mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: invalid From address %q: %v", cfg.From, err)
	}

	switch {
	case cfg.Timeout < 0:
		return nil, errors.New("mail: Timeout must not be negative")
	case cfg.Timeout == 0:
		s.timeout = DefaultTimeout
	default:
		s.timeout = cfg.Timeout
	}

	s.helo, err = os.Hostname()
	if err != nil || s.helo == "" {
		s.helo = "localhost"
	}
	return s, nil
}

// String returns a description of s with the URL password redacted.
func (s Sender) String() string {
	return fmt.Sprintf("mail.Sender{URL: %s, From: %q, Timeout: %s}", s.safeURL, s.fromString(), s.timeout)
}

// GoString returns the same redacted description as String.
func (s Sender) GoString() string { return s.String() }

// Format writes the redacted description of s for every formatting verb, so
// that no verb prints the password held inside.
func (s Sender) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String()) }

// LogValue returns the redacted attributes of s for log/slog.
func (s Sender) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", s.safeURL),
		slog.String("from", s.fromString()),
		slog.Duration("timeout", s.timeout),
	)
}

// fromString returns the From address as it is sent.
func (s Sender) fromString() string {
	if s.from == nil {
		return ""
	}
	return s.from.String()
}

// Send sends m and returns nil once the SMTP server has accepted it. It
// gives up when ctx is done or the configured timeout has passed. Errors are
// of type *Error.
func (s *Sender) Send(ctx context.Context, m Message) error {
	secrets := s.secrets(m)
	msg, err := s.build(m)
	if err != nil {
		return &Error{Op: "validate", Permanent: true, Excerpt: sanitize(err.Error(), secrets), Err: err}
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return &Error{Op: "send", Excerpt: err.Error(), Err: err}
	}

	// go-mail uses the context only while dialling; closing the connection
	// when ctx is done makes it honour cancellation during the whole
	// conversation too.
	var stop func() bool
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	dial := func(dctx context.Context, _, _ string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.implicitTLS {
			td := &tls.Dialer{NetDialer: d, Config: s.tls}
			conn, err = td.DialContext(dctx, "tcp", addr)
		} else {
			conn, err = d.DialContext(dctx, "tcp", addr)
		}
		if err != nil {
			return nil, err
		}
		stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithHELO(s.helo),
		gomail.WithTLSPolicy(s.policy),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(dial),
	}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if s.auth != authNone {
		opts = append(opts,
			gomail.WithSMTPAuth(s.auth),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.pass),
		)
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return &Error{Op: "send", Excerpt: sanitize(err.Error(), secrets), Err: err}
	}

	err = client.DialAndSendWithContext(ctx, msg)
	if stop != nil {
		stop()
	}
	if err == nil || msg.IsDelivered() {
		// A failing RSET or QUIT after the server accepted the message must
		// not make the worker send it again.
		return nil
	}
	return classify(ctx, err, secrets)
}

// build validates m and turns it into a go-mail message.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if strings.TrimSpace(m.To) == "" {
		return nil, errors.New("recipient address is empty")
	}
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, errors.New("recipient address contains a line break")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("invalid recipient address: %v", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("subject contains a line break")
	}
	if m.Text == "" {
		return nil, errors.New("text body is empty")
	}

	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(s.from.Address))
	msg.SetDate()
	msg.SetUserAgent("atrium")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// secrets lists what must never appear in an error of Send for m.
func (s *Sender) secrets(m Message) []string {
	out := []string{s.pass}
	if s.pass != "" {
		out = append(out, b64(s.pass), b64("\x00"+s.user+"\x00"+s.pass))
	}
	return append(out, messageSecrets(m.Subject, m.Text, m.HTML)...)
}

// messageID returns a new random Message-ID value in the domain of from.
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "@" + domain
}

// redactURL returns raw with its password hidden, or a placeholder when raw
// cannot be parsed (it might still hold a password).
func redactURL(raw string) string {
	if raw == "" {
		return `""`
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	return u.Redacted()
}

// formatRedacted writes s for any verb; %q quotes it.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}
