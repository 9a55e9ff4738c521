package atrium

import "time"

// Account kinds.
const (
	KindMSP    = "msp"
	KindTenant = "tenant"
)

// Account roles. The first account of an MSP or tenant is its owner (the MSP's
// top-level account); the others are members (lower-level accounts).
const (
	RoleOwner  = "owner"
	RoleMember = "member"
)

// Pending actions: what a session must clear before anything else answers.
const (
	PendingSignAgreements = "sign_agreements"
	PendingChangePassword = "change_password"
)

// MSP is a managed service provider.
type MSP struct {
	ID            int64
	Name          string
	Industry      string
	Address       string
	Phone         string
	Authenticated bool
	LogoID        string // content address of the logo image, "" when none
	CreatedAt     time.Time
}

// Tenant is a customer of one or more MSPs.
type Tenant struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Agency is a tenant's relationship with an MSP that looks after its services.
type Agency struct {
	ID        int64
	TenantID  int64
	MSPID     int64
	CreatedAt time.Time
	ExpiresAt *time.Time
}

// Account is a person's account in the console: it belongs to exactly one MSP or
// one tenant.
type Account struct {
	ID       int64
	Kind     string // KindMSP or KindTenant
	Role     string // RoleOwner or RoleMember
	MSPID    int64  // 0 unless Kind is KindMSP
	TenantID int64  // 0 unless Kind is KindTenant
	Username string
	Email    string // "" when not linked
	Phone    string // E.164, "" when not linked
	Language string // "en" or "zh-CN"; "" follows the browser

	PasswordHash       string
	PasswordChangedAt  time.Time
	PasswordMustChange bool // the password was set by the operator
	AgreementsPending  bool // a current agreement version is not signed yet
	TwoFactorEnabled   bool // the SMS code is the second factor
	TOTPEnabled        bool // an authenticator app is the second factor (it wins over SMS)
	FailedLogins       int
	LockedUntil        *time.Time
	AvatarID           string
	LastLoginAt        *time.Time
	CreatedAt          time.Time

	// Filled by lookups that join the owner: the MSP's or tenant's name, and
	// whether the MSP is authenticated.
	OrgName          string
	MSPAuthenticated bool
}

// PasswordExpiresAt returns when the account's password must be changed, or nil
// if validity is 0 (passwords never expire).
func (a *Account) PasswordExpiresAt(validity time.Duration) *time.Time {
	if validity <= 0 {
		return nil
	}
	t := a.PasswordChangedAt.Add(validity)
	return &t
}

// Pending returns the actions the account must take before anything else, at now,
// with the given password validity.
func (a *Account) Pending(now time.Time, validity time.Duration) []string {
	pending := make([]string, 0, 2)
	if a.AgreementsPending {
		pending = append(pending, PendingSignAgreements)
	}
	if exp := a.PasswordExpiresAt(validity); a.PasswordMustChange || (exp != nil && !now.Before(*exp)) {
		pending = append(pending, PendingChangePassword)
	}
	return pending
}

// Locked reports whether the account is locked at now.
func (a *Account) Locked(now time.Time) bool {
	return a.LockedUntil != nil && now.Before(*a.LockedUntil)
}

// IsMSPOwner reports whether a is the top-level account of an MSP.
func (a *Account) IsMSPOwner() bool {
	return a.Kind == KindMSP && a.Role == RoleOwner
}

// Profile items counted by the completeness score, each worth the same share.
const (
	ProfileAvatar    = "avatar"
	ProfileEmail     = "email"
	ProfilePhone     = "phone"
	ProfileTwoFactor = "two_factor"
)

// Completeness returns how complete the account's profile is, in percent, and
// the missing items in display order. The four items (profile picture, email,
// phone, two-factor authentication) weigh 25 % each.
func (a *Account) Completeness() (percent int, missing []string) {
	missing = make([]string, 0, 4)
	for _, item := range [...]struct {
		name string
		have bool
	}{{ProfilePhone, a.Phone != ""}, {ProfileEmail, a.Email != ""}, {ProfileAvatar, a.AvatarID != ""}, {ProfileTwoFactor, a.TwoFactorEnabled || a.TOTPEnabled}} {
		if item.have {
			percent += 25
		} else {
			missing = append(missing, item.name)
		}
	}
	return percent, missing
}

// Deletion checks.
const (
	CheckAccount = "account" // tenants still in an agency relationship
	CheckOrders  = "orders"  // services, resources, orders, contracts, fees
)

// Blocker is one thing that stops an MSP account from being deleted, with what
// to release.
type Blocker struct {
	Check       string `json:"check"`
	Kind        string `json:"kind"`
	ID          string `json:"id"`
	Description string `json:"description"`
}
