package password

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/cases"
)

// Reasons a password breaks a Policy, as returned by Policy.Check. They are
// part of the API output and serve as translation keys, so they never change.
const (
	ReasonTooShort         = "too_short"         // fewer than MinLength characters
	ReasonTooLong          = "too_long"          // more than MaxLength characters
	ReasonNeedsLetter      = "needs_letter"      // no letter, though RequireLetter is set
	ReasonNeedsDigit       = "needs_digit"       // no digit, though RequireDigit is set
	ReasonContainsUsername = "contains_username" // contains the username or its reverse
	ReasonContainsPhone    = "contains_phone"    // contains the phone number
	ReasonContainsEmail    = "contains_email"    // contains the local part of the email address
	ReasonCommonPassword   = "common_password"   // is a well-known common password
	ReasonTooGuessable     = "too_guessable"     // zxcvbn score is below MinScore
)

// Defaults used by DefaultPolicy.
const (
	DefaultMinLength = 8
	DefaultMaxLength = 128
	DefaultMinScore  = 2
	DefaultHistory   = 3
)

const (
	// minContextLen is the number of characters a username or email local
	// part needs before the password is checked for containing it.
	minContextLen = 3
	// minPhoneDigits is the number of digits a phone number needs before
	// the password is checked for containing all of them.
	minPhoneDigits = 7
	// phoneSuffixDigits is the length of the phone number suffix (the
	// subscriber number without country or trunk prefix) that the password
	// must not contain either.
	phoneSuffixDigits = 8
	// maxScoredLen bounds the number of characters zxcvbn looks at, however
	// large MaxLength is, because its running time grows faster than
	// linearly with the length.
	maxScoredLen = DefaultMaxLength
)

// Policy is a password policy. The zero value of each field except MaxLength
// disables the corresponding rule; a MaxLength of 0 or less means
// DefaultMaxLength, since the maximum also bounds the work Check does.
type Policy struct {
	// MinLength and MaxLength bound the length in characters (runes) of
	// the password after NFKC normalisation.
	MinLength, MaxLength int
	// RequireLetter and RequireDigit require at least one Unicode letter
	// and one Unicode decimal digit.
	RequireLetter, RequireDigit bool
	// MinScore is the zxcvbn score, from 0 to 4, below which a password is
	// too guessable.
	MinScore int
	// History is the number of most recent passwords the new one must
	// differ from. The policy only carries the number: the caller checks
	// the stored hashes of previous passwords with Hasher.Verify.
	History int
}

// DefaultPolicy returns Atrium's default policy: 8 to 128 characters, at
// least one letter and one digit, a zxcvbn score of at least 2, and none of
// the last 3 passwords.
func DefaultPolicy() Policy {
	return Policy{
		MinLength:     DefaultMinLength,
		MaxLength:     DefaultMaxLength,
		RequireLetter: true,
		RequireDigit:  true,
		MinScore:      DefaultMinScore,
		History:       DefaultHistory,
	}
}

// Context is what a password must not contain: the account's own
// identifiers. Empty fields are ignored, as are a username or email local
// part shorter than 3 characters and a phone number with fewer than 7
// digits.
type Context struct {
	Username, Email, Phone string
}

// Check returns the reasons pw breaks the policy, in a stable order; nil if
// it passes. The order is that of the Reason constants: ReasonTooShort,
// ReasonTooLong, ReasonNeedsLetter, ReasonNeedsDigit, ReasonContainsUsername,
// ReasonContainsPhone, ReasonContainsEmail, ReasonCommonPassword,
// ReasonTooGuessable.
//
// The password and c are normalised to NFKC first, and comparisons with c
// and with the common passwords ignore case. A password longer than
// MaxLength is reported only as ReasonTooLong, without further checks, and
// zxcvbn scores at most the first DefaultMaxLength characters, so the work
// Check does is bounded.
func (p Policy) Check(pw string, c Context) []string {
	maxLen := p.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	// NFKC composes at most 4 runes into one, so a longer input is too long
	// whatever its normal form; skip normalising it.
	if utf8.RuneCountInString(pw) > 4*maxLen {
		return []string{ReasonTooLong}
	}
	pw = Normalize(pw)
	n := utf8.RuneCountInString(pw)
	if n > maxLen {
		return []string{ReasonTooLong}
	}

	var reasons []string
	if n < p.MinLength {
		reasons = append(reasons, ReasonTooShort)
	}
	if p.RequireLetter && strings.IndexFunc(pw, unicode.IsLetter) < 0 {
		reasons = append(reasons, ReasonNeedsLetter)
	}
	if p.RequireDigit && strings.IndexFunc(pw, unicode.IsDigit) < 0 {
		reasons = append(reasons, ReasonNeedsDigit)
	}

	folded := fold(pw)
	user := fold(Normalize(strings.TrimSpace(c.Username)))
	if containsWord(folded, user) || containsWord(folded, reverse(user)) {
		reasons = append(reasons, ReasonContainsUsername)
	}
	phones := phoneNumbers(c.Phone)
	if containsPhone(pw, phones) {
		reasons = append(reasons, ReasonContainsPhone)
	}
	locals := emailLocalParts(c.Email)
	for _, local := range locals {
		if containsWord(folded, local) {
			reasons = append(reasons, ReasonContainsEmail)
			break
		}
	}
	if isCommon(folded) {
		reasons = append(reasons, ReasonCommonPassword)
	}
	if p.MinScore > 0 {
		inputs := append([]string{user, fold(Normalize(strings.TrimSpace(c.Email)))}, locals...)
		inputs = append(inputs, phones...)
		if zxcvbn.PasswordStrength(truncateRunes(pw, maxScoredLen), nonEmpty(inputs)).Score < p.MinScore {
			reasons = append(reasons, ReasonTooGuessable)
		}
	}
	return reasons
}

// fold returns s case-folded for case-insensitive comparison.
func fold(s string) string {
	return cases.Fold().String(s)
}

// containsWord reports whether s contains word, ignoring words too short
// to be meaningful.
func containsWord(s, word string) bool {
	return utf8.RuneCountInString(word) >= minContextLen && strings.Contains(s, word)
}

// reverse returns s with its runes in reverse order.
func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// emailLocalParts returns the folded local part of email, its part before
// the "+" of a subaddress such as bob.smith+news@example.com, and that part
// without the dots, hyphens and underscores between names ("bobsmith").
func emailLocalParts(email string) []string {
	email = fold(Normalize(strings.TrimSpace(email)))
	local := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		local = email[:i]
	}
	base, _, _ := strings.Cut(local, "+")
	joined := strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, base)
	parts := []string{local}
	for _, s := range []string{base, joined} {
		if s != parts[len(parts)-1] {
			parts = append(parts, s)
		}
	}
	return nonEmpty(parts)
}

// phoneNumbers returns the digit strings the password must not contain for
// phone: all its digits, which include any country code, and its last
// phoneSuffixDigits digits, which are what remains once the country code or
// trunk prefix is left out.
func phoneNumbers(phone string) []string {
	digits := strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, Normalize(phone))
	var nums []string
	if len(digits) >= minPhoneDigits {
		nums = append(nums, digits)
	}
	if len(digits) > phoneSuffixDigits {
		nums = append(nums, digits[len(digits)-phoneSuffixDigits:])
	}
	return nums
}

// containsPhone reports whether pw contains one of the digit strings nums,
// possibly written with the usual separators between the digits.
func containsPhone(pw string, nums []string) bool {
	if len(nums) == 0 {
		return false
	}
	pw = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -./()", r) {
			return -1
		}
		return r
	}, pw)
	for _, num := range nums {
		if strings.Contains(pw, num) {
			return true
		}
	}
	return false
}

// isCommon reports whether the folded password is a common password, as is
// or once the digits and symbols around it are stripped ("password123!").
func isCommon(folded string) bool {
	common := commonPasswords()
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	for _, s := range []string{
		folded,
		strings.TrimRightFunc(folded, notLetter),
		strings.TrimFunc(folded, notLetter),
	} {
		if _, ok := common[s]; ok && s != "" {
			return true
		}
	}
	return false
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// nonEmpty returns the non-empty strings of ss, reusing its storage.
func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

//go:embed common-passwords.txt
var commonPasswordsFile string

// commonPasswords returns the set of folded common passwords: those in
// common-passwords.txt and zxcvbn's password frequency list. It is built
// once, on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zx := frequency.FrequencyLists["passwords"]
	set := make(map[string]struct{}, strings.Count(commonPasswordsFile, "\n")+len(zx))
	for line := range strings.Lines(commonPasswordsFile) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			set[fold(Normalize(line))] = struct{}{}
		}
	}
	for _, pw := range zx {
		set[fold(Normalize(pw))] = struct{}{}
	}
	return set
})
