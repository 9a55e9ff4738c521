package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/atrium-console/atrium/mail"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/sms"
)

// secret returns the server secret: the configured one, or in development one
// kept in the data directory (made at the first start).
func (c *config) secret() ([]byte, error) {
	if c.SecretKey != "" {
		return []byte(c.SecretKey), nil
	}
	if !c.development() {
		return nil, errors.New("ATRIUM_SECRET_KEY is required")
	}
	path := filepath.Join(c.DataDir, "secret-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	key := rand.Text() + rand.Text()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	return []byte(key), nil
}

// senders returns the email and SMS senders: in development the outbox keeps
// every message and nothing leaves the machine.
func (c *config) senders() (map[string]notify.Sender, error) {
	if c.development() {
		return map[string]notify.Sender{notify.ChannelEmail: devSender{}, notify.ChannelSMS: devSender{}}, nil
	}
	out := map[string]notify.Sender{}
	if c.SMTPURL != "" {
		m, err := mail.New(mail.Config{URL: c.SMTPURL, From: c.MailFrom})
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_SMTP_URL: %w", err)
		}
		out[notify.ChannelEmail] = mailSender{m}
	}
	switch c.SMSProvider {
	case "http":
		s, err := sms.NewHTTPJSON(sms.HTTPJSONConfig{URL: c.SMSURL, Token: c.SMSToken, SenderID: c.SMSSender})
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_SMS_*: %w", err)
		}
		out[notify.ChannelSMS] = smsSender{s}
	case "twilio":
		s, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: c.TwilioURL, AccountSID: c.TwilioSID, AuthToken: c.TwilioToken, From: c.TwilioFrom, MessagingServiceSID: c.TwilioMSID})
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_TWILIO_*: %w", err)
		}
		out[notify.ChannelSMS] = smsSender{s}
	}
	return out, nil
}

// devSender keeps messages in the outbox, shown at /dev/outbox.
type devSender struct{}

func (devSender) Send(context.Context, notify.Envelope) error { return nil }

type mailSender struct{ s *mail.Sender }

func (m mailSender) Send(ctx context.Context, e notify.Envelope) error {
	return m.s.Send(ctx, mail.Message{To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML})
}

func (mailSender) Permanent(err error) bool { return mail.IsPermanent(err) }

type smsSender struct{ s sms.Sender }

func (m smsSender) Send(ctx context.Context, e notify.Envelope) error {
	return m.s.Send(ctx, sms.Message{To: e.To, Text: e.Text})
}

func (smsSender) Permanent(err error) bool { return sms.IsPermanent(err) }
