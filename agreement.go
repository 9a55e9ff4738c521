package atrium

import "time"

// Agreement types.
const (
	AgreementPrivacy  = "privacy_statement"
	AgreementCustomer = "customer_agreement"
	AgreementDeletion = "deletion_terms"
)

// AgreementTypes lists every agreement type in display order.
var AgreementTypes = []string{AgreementPrivacy, AgreementCustomer, AgreementDeletion}

// LoginAgreementTypes are the agreements every account signs before using the
// console; the deletion terms are signed only when deleting an MSP account.
var LoginAgreementTypes = []string{AgreementPrivacy, AgreementCustomer}

// ValidAgreementType reports whether t is an agreement type.
func ValidAgreementType(t string) bool {
	for _, a := range AgreementTypes {
		if a == t {
			return true
		}
	}
	return false
}

// Signing scenarios.
const (
	ScenarioFirstLogin      = "first_login"
	ScenarioAgreementUpdate = "agreement_update"
	ScenarioRegistration    = "registration"
	ScenarioAccountDeletion = "account_deletion"
)

// Agreement is one published version of a website agreement.
type Agreement struct {
	ID          int64
	Type        string
	Version     int
	Title       string
	Body        string
	Sample      bool // a sample text shipped with Atrium, to be replaced by the operator
	PublishedAt time.Time
}

// Signing is an append-only record that an account signed an agreement version.
type Signing struct {
	ID        int64
	AccountID int64
	Type      string
	Version   int
	Scenario  string
	SignedAt  time.Time
	ClientIP  string
}
