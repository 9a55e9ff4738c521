package atrium

import "time"

// Event outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Event is an append-only audit record: who did what, when (UTC), from where, and
// how it ended.
type Event struct {
	ID        int64
	At        time.Time
	AccountID int64  // 0 when no account is known (an unknown identifier)
	MSPID     int64  // the account's MSP, kept for the audit trail after deletion
	Actor     string // "account", "operator" or "system"
	Action    string // e.g. "login", "login.lock", "password.change"
	Outcome   string
	ClientIP  string
	Detail    string // a short machine-readable detail, never a secret
}

// EventFilter selects audit events. Zero fields do not filter.
type EventFilter struct {
	AccountID int64
	MSPID     int64
	Action    string
	Since     time.Time
	Until     time.Time
	BeforeID  int64 // for paging: only events with a smaller ID
	Limit     int
}
