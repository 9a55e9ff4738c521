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
