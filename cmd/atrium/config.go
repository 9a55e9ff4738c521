package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/httpcheck"
)

// config is every setting of `atrium serve`: a flag each, defaulting to its
// ATRIUM_* environment variable, defaulting to the value here. docs/configuration.md
// lists them.
type config struct {
	Addr             string
	DataDir          string
	DatabaseURL      string
	OperatorToken    string
	Env              string
	PublicURL        string
	TLSCert, TLSKey  string
	TrustedProxies   string
	LogLevel         string
	SessionIdle      time.Duration
	SessionAbsolute  time.Duration
	PasswordValidity time.Duration
	HashConcurrency  int
	ShutdownTimeout  time.Duration

	SecretKey   string
	PhoneRegion string
	SMTPURL     string
	MailFrom    string
	SMSProvider string // "", "http" or "twilio"
	SMSURL      string
	SMSToken    string
	SMSSender   string
	TwilioSID   string
	TwilioToken string
	TwilioFrom  string
	TwilioMSID  string
	TwilioURL   string

	MetricsToken         string
	DeletionCheckers     string // comma-separated URLs
	DeletionCheckTimeout time.Duration
}

func (c *config) development() bool { return c.Env == "development" }

// secure reports whether browsers reach Atrium over TLS.
func (c *config) secure() bool {
	return c.TLSCert != "" || strings.HasPrefix(c.PublicURL, "https://")
}

// durationValue parses Go durations plus a "d" suffix for days ("90d").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

// parseConfig reads flags (args) over environment variables (getenv) over
// defaults, and checks the result.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, []string, error) {
	def := app.DefaultConfig()
	c := &config{
		Addr: "127.0.0.1:8080", DataDir: "./atrium-data", Env: "development", LogLevel: "info", PhoneRegion: "CN",
		MailFrom:    "Atrium <no-reply@localhost>",
		SessionIdle: def.SessionIdle, SessionAbsolute: def.SessionAbsolute, PasswordValidity: def.PasswordValidity,
		ShutdownTimeout: 20 * time.Second, DeletionCheckTimeout: def.CheckTimeout,
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, flagName, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, flagName, *p, usage+" ("+env+")")
	}
	dur := func(p *time.Duration, flagName, env, usage string) error {
		if v := getenv(env); v != "" {
			d, err := parseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", env, err)
			}
			*p = d
		}
		fs.Var(durationValue{p}, flagName, usage+" ("+env+")")
		return nil
	}
	str(&c.Addr, "addr", "ATRIUM_ADDR", "address to listen on")
	str(&c.DataDir, "data-dir", "ATRIUM_DATA_DIR", "directory of the SQLite database and development files")
	str(&c.DatabaseURL, "database-url", "ATRIUM_DATABASE_URL", "postgres:// URL for PostgreSQL; empty for SQLite in the data directory")
	str(&c.OperatorToken, "operator-token", "ATRIUM_OPERATOR_TOKEN", "bearer token of the operator API")
	str(&c.Env, "env", "ATRIUM_ENV", "development or production")
	str(&c.PublicURL, "public-url", "ATRIUM_PUBLIC_URL", "the URL browsers use, e.g. https://console.example.com")
	str(&c.TLSCert, "tls-cert", "ATRIUM_TLS_CERT", "TLS certificate file, to serve HTTPS directly")
	str(&c.TLSKey, "tls-key", "ATRIUM_TLS_KEY", "TLS key file")
	str(&c.TrustedProxies, "trusted-proxies", "ATRIUM_TRUSTED_PROXIES", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed")
	str(&c.LogLevel, "log-level", "ATRIUM_LOG_LEVEL", "debug, info, warn or error")
	str(&c.SecretKey, "secret-key", "ATRIUM_SECRET_KEY", "server secret (32+ characters) that keys code hashes and seals the outbox; development keeps one in the data directory")
	str(&c.PhoneRegion, "phone-region", "ATRIUM_PHONE_REGION", "region of phone numbers typed without a country code")
	str(&c.SMTPURL, "smtp-url", "ATRIUM_SMTP_URL", "smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (implicit TLS)")
	str(&c.MailFrom, "mail-from", "ATRIUM_MAIL_FROM", "sender of emails, e.g. \"Atrium <no-reply@example.com>\"")
	str(&c.SMSProvider, "sms-provider", "ATRIUM_SMS_PROVIDER", "http (generic HTTP JSON) or twilio")
	str(&c.SMSURL, "sms-url", "ATRIUM_SMS_URL", "endpoint of the http SMS provider")
	str(&c.SMSToken, "sms-token", "ATRIUM_SMS_TOKEN", "bearer token of the http SMS provider")
	str(&c.SMSSender, "sms-sender", "ATRIUM_SMS_SENDER", "sender ID of the http SMS provider")
	str(&c.TwilioSID, "twilio-account-sid", "ATRIUM_TWILIO_ACCOUNT_SID", "Twilio account SID")
	str(&c.TwilioToken, "twilio-auth-token", "ATRIUM_TWILIO_AUTH_TOKEN", "Twilio auth token")
	str(&c.TwilioFrom, "twilio-from", "ATRIUM_TWILIO_FROM", "Twilio sender number")
	str(&c.TwilioMSID, "twilio-messaging-service-sid", "ATRIUM_TWILIO_MESSAGING_SERVICE_SID", "Twilio messaging service (instead of a sender number)")
	str(&c.TwilioURL, "twilio-base-url", "ATRIUM_TWILIO_BASE_URL", "base URL of a Twilio-compatible API")
	str(&c.MetricsToken, "metrics-token", "ATRIUM_METRICS_TOKEN", "bearer token that /metrics requires (open when empty)")
	str(&c.DeletionCheckers, "deletion-checkers", "ATRIUM_DELETION_CHECKERS", "comma-separated URLs of external order and resource checks run before an MSP account is deleted")
	var errs []error
	errs = append(errs, dur(&c.SessionIdle, "session-idle", "ATRIUM_SESSION_IDLE", "session idle timeout"))
	errs = append(errs, dur(&c.SessionAbsolute, "session-absolute", "ATRIUM_SESSION_ABSOLUTE", "session absolute timeout"))
	errs = append(errs, dur(&c.PasswordValidity, "password-validity", "ATRIUM_PASSWORD_VALIDITY", "password validity period, 0 = never expires"))
	errs = append(errs, dur(&c.ShutdownTimeout, "shutdown-timeout", "ATRIUM_SHUTDOWN_TIMEOUT", "how long shutdown waits for requests to finish"))
	errs = append(errs, dur(&c.DeletionCheckTimeout, "deletion-check-timeout", "ATRIUM_DELETION_CHECK_TIMEOUT", "how long each external deletion checker may take"))
	if v := getenv("ATRIUM_HASH_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("ATRIUM_HASH_CONCURRENCY: want a positive number, got %q", v))
		}
		c.HashConcurrency = n
	}
	fs.IntVar(&c.HashConcurrency, "hash-concurrency", c.HashConcurrency, "password hashes computed at once, 0 = number of CPUs (ATRIUM_HASH_CONCURRENCY)")
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), c.check()
}

// check refuses settings that cannot work, and in production every development
// convenience, naming the setting to fix.
func (c *config) check() error {
	var errs []error
	switch c.Env {
	case "development", "production":
	default:
		errs = append(errs, fmt.Errorf("ATRIUM_ENV must be development or production, not %q", c.Env))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("ATRIUM_TLS_CERT and ATRIUM_TLS_KEY go together"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("ATRIUM_PUBLIC_URL must be an http(s) URL, not %q", c.PublicURL))
		}
	}
	if _, err := c.proxies(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.checkers(); err != nil {
		errs = append(errs, err)
	}
	if c.SessionIdle <= 0 || c.SessionAbsolute <= 0 || c.SessionIdle > c.SessionAbsolute {
		errs = append(errs, errors.New("ATRIUM_SESSION_IDLE and ATRIUM_SESSION_ABSOLUTE must be positive, idle no longer than absolute"))
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		errs = append(errs, errors.New("ATRIUM_SECRET_KEY must have at least 32 characters"))
	}
	switch c.SMSProvider {
	case "", "http", "twilio":
	default:
		errs = append(errs, fmt.Errorf("ATRIUM_SMS_PROVIDER must be http or twilio, not %q", c.SMSProvider))
	}
	if c.Env == "production" {
		if c.SecretKey == "" {
			errs = append(errs, errors.New("production: set ATRIUM_SECRET_KEY to a random secret of at least 32 characters, the same on every node (development keeps one in the data directory)"))
		}
		if c.SMTPURL == "" {
			errs = append(errs, errors.New("production: set ATRIUM_SMTP_URL (and ATRIUM_MAIL_FROM) to send email (development shows messages at /dev/outbox)"))
		}
		if c.SMSProvider == "" {
			errs = append(errs, errors.New("production: set ATRIUM_SMS_PROVIDER (http or twilio) and its settings to send SMS (development shows messages at /dev/outbox)"))
		}
		if len(c.OperatorToken) < 32 {
			errs = append(errs, errors.New("production: set ATRIUM_OPERATOR_TOKEN to a random token of at least 32 characters (development generates one)"))
		}
		if !c.secure() {
			errs = append(errs, errors.New("production: set ATRIUM_PUBLIC_URL to the https:// URL of the console, or ATRIUM_TLS_CERT and ATRIUM_TLS_KEY (development serves plain HTTP)"))
		}
	}
	return errors.Join(errs...)
}

func (c *config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("ATRIUM_TRUSTED_PROXIES: %q is not a CIDR or address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// checkers returns the external deletion checkers of ATRIUM_DELETION_CHECKERS.
func (c *config) checkers() ([]app.DeletionChecker, error) {
	var out []app.DeletionChecker
	for _, u := range strings.Split(c.DeletionCheckers, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		ch, err := httpcheck.New(u, nil)
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_DELETION_CHECKERS: %w", err)
		}
		out = append(out, ch)
	}
	return out, nil
}
