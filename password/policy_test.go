package password

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// strong is a random-looking letter-and-digit string whose prefixes of 8
// characters or more pass every rule but the length ones.
const strong = "q7Vm2Kx9Rb4Tn8Wc3Lp6Hs1Jd5Gf0Zy" +
	"q7Vm2Kx9Rb4Tn8Wc3Lp6Hs1Jd5Gf0Zy" +
	"q7Vm2Kx9Rb4Tn8Wc3Lp6Hs1Jd5Gf0Zy" +
	"q7Vm2Kx9Rb4Tn8Wc3Lp6Hs1Jd5Gf0Zy" +
	"q7Vm2Kx9Rb4Tn8Wc3Lp6Hs1Jd5Gf0Zy"

// emoji are distinct single-rune emoji.
const emoji = "🍕🚀🎸🌵🦊🐙🌈"

func TestDefaultPolicy(t *testing.T) {
	want := Policy{MinLength: 8, MaxLength: 128, RequireLetter: true, RequireDigit: true, MinScore: 2, History: 3}
	if got := DefaultPolicy(); got != want {
		t.Errorf("DefaultPolicy() = %+v, want %+v", got, want)
	}
}

func TestCheck(t *testing.T) {
	ctx := Context{Username: "alice", Email: "bob.smith+news@example.com", Phone: "+44 7911 123456"}
	tests := []struct {
		name string
		pw   string
		c    Context
		want []string
	}{
		// Length, in runes after NFKC.
		{"7 characters are too short", strong[:7], Context{}, []string{ReasonTooShort}},
		{"8 characters are enough", strong[:8], Context{}, nil},
		{"64 characters are fine", strong[:64], Context{}, nil},
		{"128 characters are the maximum", strong[:128], Context{}, nil},
		{"129 characters are too long", strong[:129], Context{}, []string{ReasonTooLong}},
		{"too long is the only reason for a long weak password", strings.Repeat("a", 129), ctx, []string{ReasonTooLong}},
		{"a huge password is only too long", strings.Repeat("password", 1<<17), ctx, []string{ReasonTooLong}},
		{"an emoji is one character: 7 are too short", "a1" + emoji[:5*4], Context{}, []string{ReasonTooShort}},
		{"an emoji is one character: 8 are enough", "a1" + emoji[:6*4], Context{}, nil},
		{"an emoji is one character: 128 are the maximum", "a1" + strings.Repeat(emoji, 18), Context{}, nil},
		{"an emoji is one character: 129 are too long", "a1" + strings.Repeat(emoji, 18) + "x", Context{}, []string{ReasonTooLong}},
		{"length counts the NFKC form", "\ufb03" + strong[:5], Context{}, nil}, // ﬃ is 3 letters

		// Character classes.
		{"letters only need a digit", "abcdefgh", Context{}, []string{ReasonNeedsDigit, ReasonCommonPassword, ReasonTooGuessable}},
		{"digits only need a letter and are common", "12345678", Context{}, []string{ReasonNeedsLetter, ReasonCommonPassword, ReasonTooGuessable}},
		{"non-Latin letters are letters", "λογισμικό7Qzr", Context{}, nil},
		{"non-ASCII digits are digits", "Xkcd-Tulip-٣-Moor", Context{}, nil},
		{"fullwidth digits are digits", "Xkcd-Tulip-３-Moor", Context{}, nil},

		// The account's identifiers.
		{"contains the username", "Lantern-alice-42", ctx, []string{ReasonContainsUsername}},
		{"contains the username in another case", "Lantern-ALICE-42", ctx, []string{ReasonContainsUsername}},
		{"contains the reversed username", "ecilaRunsFast-42", ctx, []string{ReasonContainsUsername}},
		{"a username under 3 characters is not checked", "Lantern-al-Orbit-42", Context{Username: "al"}, nil},
		{"contains the email local part", "Bob.Smith-Lantern-42", ctx, []string{ReasonContainsEmail}},
		{"contains the email local part without its tag", "xbob.smithx-Lantern-42", ctx, []string{ReasonContainsEmail}},
		{"contains the email local part without dots", "BobSmith-Lantern-42", ctx, []string{ReasonContainsEmail}},
		{"does not contain the email domain", "Example-Lantern-42", ctx, nil},
		{"an email local part under 3 characters is not checked", "Lantern-Orbit-bo-42", Context{Email: "bo@example.com"}, nil},
		{"contains the full phone number", "Tel447911123456xZ", ctx, []string{ReasonContainsPhone}},
		{"contains the national phone number", "Tel07911123456xZ", ctx, []string{ReasonContainsPhone}},
		{"contains the phone number with separators", "Tel+44-7911-123-456xZ", ctx, []string{ReasonContainsPhone}},
		{"contains the last 8 phone digits", "Lantern11123456xZ", ctx, []string{ReasonContainsPhone}},
		{"contains fewer than 8 phone digits", "Lantern1123456xZq", ctx, nil},
		{"contains a short phone number", "Lantern5550123xZ", Context{Phone: "555-0123"}, []string{ReasonContainsPhone}},

		// Common and guessable passwords.
		{"a common password with trailing digits and symbols", "Password123!", Context{}, []string{ReasonCommonPassword, ReasonTooGuessable}},
		{"a common password in another case", "QWERTY123", Context{}, []string{ReasonCommonPassword, ReasonTooGuessable}},
		{"a common password with leading digits", "2024Iloveyou", Context{}, []string{ReasonCommonPassword}},
		{"a common Chinese-market password", "woaini1314", Context{}, []string{ReasonCommonPassword}},
		{"a common Chinese-market password in fullwidth", "ａａ１２３４５６", Context{}, []string{ReasonCommonPassword, ReasonTooGuessable}},
		{"a common word with a year", "Summer2024", Context{}, []string{ReasonCommonPassword}},
		{"a keyboard walk", "1qaz2wsx3edc4rfv", Context{}, []string{ReasonCommonPassword, ReasonTooGuessable}},
		{"a repeated pattern is guessable", "abcabcabc1", Context{}, []string{ReasonTooGuessable}},
		{"a repeated name is guessable", "smithsmith1", Context{}, []string{ReasonTooGuessable}},

		// Strong passwords.
		{"a strong passphrase", "Lantern7-Orbit-Quince-Maple", ctx, nil},
		{"a strong passphrase with spaces", "violet lantern 7 quince orbit", ctx, nil},

		// Several reasons come in the stable order.
		{"reasons come in a stable order", "alice", ctx, []string{ReasonTooShort, ReasonNeedsDigit, ReasonContainsUsername, ReasonCommonPassword, ReasonTooGuessable}},
		{"every context reason", "alice-bob.smith-07911123456", ctx, []string{ReasonContainsUsername, ReasonContainsPhone, ReasonContainsEmail}},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Check(tt.pw, tt.c); !slices.Equal(got, tt.want) {
				t.Errorf("Check(%q) = %q, want %q", tt.pw, got, tt.want)
			}
		})
	}
}

func TestCheckHonoursPolicyFields(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		pw     string
		want   []string
	}{
		{"zero policy still bounds length", Policy{}, strings.Repeat("x", 129), []string{ReasonTooLong}},
		{"zero policy still rejects common passwords", Policy{}, "12345678", []string{ReasonCommonPassword}},
		{"zero policy accepts a short password", Policy{}, "zq", nil},
		{"letter not required", Policy{RequireDigit: true}, "8675309214", nil},
		{"digit not required", Policy{RequireLetter: true}, "violet-lantern", nil},
		{"custom lengths", Policy{MinLength: 12, MaxLength: 16}, strong[:17], []string{ReasonTooLong}},
		{"custom minimum", Policy{MinLength: 12, MaxLength: 16}, strong[:11], []string{ReasonTooShort}},
		{"score not checked when MinScore is 0", Policy{}, "abcabcabc1", nil},
		{"higher MinScore", Policy{MinScore: 4}, "Gx7kQ2mv", []string{ReasonTooGuessable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Check(tt.pw, Context{}); !slices.Equal(got, tt.want) {
				t.Errorf("%+v.Check(%q) = %q, want %q", tt.policy, tt.pw, got, tt.want)
			}
		})
	}
}

func TestCheckBoundsWork(t *testing.T) {
	p := DefaultPolicy()
	p.MaxLength = 10000
	pw := strings.Repeat(strong, 60) // 9600 characters
	start := time.Now()
	if got := p.Check(pw, Context{Username: "alice"}); got != nil {
		t.Errorf("Check(long strong password) = %q, want nil", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Check of %d characters took %v", len(pw), d)
	}
}

func TestCommonPasswordsList(t *testing.T) {
	common := commonPasswords()
	if len(common) < 10000 {
		t.Errorf("common password list has %d entries, want at least 10000", len(common))
	}
	for _, pw := range []string{
		"123456", "password", "qwerty", "iloveyou", "admin", "welcome", "letmein",
		"dragon", "monkey", "abc123", "football", "1q2w3e4r", "passw0rd", "zaq12wsx",
		"5201314", "woaini1314", "aa123456", "qq123456", "a123456", "michael",
	} {
		if _, ok := common[pw]; !ok {
			t.Errorf("%q is not in the common password list", pw)
		}
	}
	for pw := range common {
		if pw != fold(Normalize(pw)) {
			t.Errorf("common password %q is not folded", pw)
		}
	}
}
