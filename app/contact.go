package app

import (
	"net/mail"
	"strings"

	"github.com/atrium-console/atrium"
)

// ValidateEmail checks that s is a plain email address (no display name) of at
// most 254 characters; EInvalid otherwise.
func ValidateEmail(s string) error {
	s = strings.TrimSpace(s)
	invalid := atrium.Errorf(atrium.EInvalid, "Enter an email address such as name@example.com.").With("field", "email")
	if len(s) > 254 || strings.ContainsAny(s, " <>\r\n") {
		return invalid
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return invalid
	}
	return nil
}

// NormalizePhone returns a phone number in E.164 form: "+", a country code and
// the number, 8 to 15 digits, separators removed. EInvalid otherwise.
func NormalizePhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", atrium.Errorf(atrium.EInvalid, "Enter a phone number with its country code, such as +86 138 0013 8000.").With("field", "phone")
		}
	}
	p := b.String()
	if !strings.HasPrefix(p, "+") || len(p) < 9 || len(p) > 16 || p[1] == '0' {
		return "", atrium.Errorf(atrium.EInvalid, "Enter a phone number with its country code, such as +86 138 0013 8000.").With("field", "phone")
	}
	return p, nil
}
