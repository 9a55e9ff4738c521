package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// DeletionSubject is what an external checker is asked about.
type DeletionSubject struct {
	MSP      SubjectMSP       `json:"msp"`
	Accounts []SubjectAccount `json:"accounts"`
}

// SubjectMSP names the MSP being deleted.
type SubjectMSP struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// SubjectAccount names one of its accounts.
type SubjectAccount struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// DeletionChecker is an external service that says what blocks deleting an
// MSP (services in use, unpaid fees and so on). httpcheck.Checker is the one
// implementation.
type DeletionChecker interface {
	Name() string
	Check(ctx context.Context, s DeletionSubject) ([]atrium.Blocker, error)
}

// DeletionReport is the result of the deletion checks.
type DeletionReport struct {
	OK       bool
	Blocking []atrium.Blocker
}

// HoldingInput registers something that blocks a deletion.
type HoldingInput struct {
	MSPID       int64  `json:"msp_id,omitempty"`
	AccountID   int64  `json:"account_id,omitempty"`
	Kind        string `json:"kind"`
	Ref         string `json:"ref"`
	Description string `json:"description"`
}

// AddHolding registers a resource, order, contract or fee that blocks deleting
// an MSP, for the MSP or one of its accounts. ENotFound for an unknown MSP or
// account (or a tenant account); EInvalid for a bad kind or text.
func (a *App) AddHolding(ctx context.Context, in HoldingInput) (*store.Holding, error) {
	switch in.Kind {
	case "resource", "order", "contract", "fee":
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "kind is resource, order, contract or fee.").With("field", "kind")
	}
	if in.Ref == "" || len(in.Ref) > 200 {
		return nil, atrium.Errorf(atrium.EInvalid, "ref of 1 to 200 characters is required.").With("field", "ref")
	}
	if err := validateText("description", in.Description, 500); err != nil || in.Description == "" {
		return nil, atrium.Errorf(atrium.EInvalid, "A description of 1 to 500 characters on one line is required: what to release.").With("field", "description")
	}
	if (in.MSPID == 0) == (in.AccountID == 0) {
		return nil, atrium.Errorf(atrium.EInvalid, "Give msp_id or account_id.").With("field", "msp_id")
	}
	h := &store.Holding{MSPID: in.MSPID, AccountID: in.AccountID, Kind: in.Kind, Ref: in.Ref, Description: in.Description, CreatedAt: a.now()}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		if in.AccountID != 0 {
			acc, err := tx.AccountByID(ctx, in.AccountID)
			if err != nil || acc.Kind != atrium.KindMSP {
				return atrium.Errorf(atrium.ENotFound, "No such MSP account.").With("field", "account_id")
			}
			h.MSPID = acc.MSPID
		} else if _, err := tx.MSPByID(ctx, in.MSPID); err != nil {
			return atrium.Errorf(atrium.ENotFound, "No such MSP.").With("field", "msp_id")
		}
		if err := tx.InsertHolding(ctx, h); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "holding.add", MSPID: h.MSPID, AccountID: h.AccountID, Detail: "holding=" + itoa64(h.ID) + " kind=" + h.Kind})
	})
	return h, err
}

// RemoveHolding releases a holding; ENotFound if there is none.
func (a *App) RemoveHolding(ctx context.Context, id int64) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteHolding(ctx, id); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "holding.remove", Detail: "holding=" + itoa64(id)})
	})
}

func (a *App) requireOwner(p *Principal) error {
	if !p.Account.IsMSPOwner() {
		return atrium.Errorf(atrium.EForbidden, "Only the top-level account of the MSP can delete it.")
	}
	return nil
}

// localBlockers runs the checks that the database answers: tenants still in an
// agency relationship (account check) and registered holdings (order and
// resource check).
func localBlockers(ctx context.Context, tx *store.Tx, mspID int64, now time.Time) ([]atrium.Blocker, error) {
	var out []atrium.Blocker
	agencies, err := tx.ActiveAgencies(ctx, mspID, now)
	if err != nil {
		return nil, err
	}
	for _, ag := range agencies {
		out = append(out, atrium.Blocker{Check: atrium.CheckAccount, Kind: "agency", ID: itoa64(ag.AgencyID),
			Description: fmt.Sprintf("The tenant %q still has an agency relationship with this MSP. End the agency relationship first.", ag.TenantName)})
	}
	holdings, err := tx.Holdings(ctx, mspID)
	if err != nil {
		return nil, err
	}
	for _, h := range holdings {
		out = append(out, atrium.Blocker{Check: atrium.CheckOrders, Kind: h.Kind, ID: h.Ref, Description: h.Description})
	}
	return out, nil
}

// externalBlockers asks every configured checker at once, each within
// Config.CheckTimeout. A checker that errs, times out or answers nonsense
// blocks the deletion with a blocker that names it: the checks fail closed.
func (a *App) externalBlockers(ctx context.Context, subject DeletionSubject) []atrium.Blocker {
	results := make([][]atrium.Blocker, len(a.Checkers))
	var wg sync.WaitGroup
	for i, c := range a.Checkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, a.Config.CheckTimeout)
			defer cancel()
			found, err := c.Check(cctx, subject)
			if err != nil {
				a.Log.Warn("deletion checker failed", "checker", c.Name(), "error", err.Error())
				results[i] = []atrium.Blocker{{Check: atrium.CheckOrders, Kind: "checker_unavailable", ID: c.Name(),
					Description: fmt.Sprintf("The order and resource check %q could not be completed (%s). Try again later; the account cannot be deleted until it answers.", c.Name(), err.Error())}}
				return
			}
			for j := range found {
				found[j].Check = atrium.CheckOrders
			}
			results[i] = found
		}()
	}
	wg.Wait()
	var out []atrium.Blocker
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// runChecks runs every deletion check for the principal's MSP.
func (a *App) runChecks(ctx context.Context, p *Principal) (*DeletionReport, error) {
	var local []atrium.Blocker
	var subject DeletionSubject
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		m, err := tx.MSPByID(ctx, p.Account.MSPID)
		if err != nil {
			return err
		}
		subject.MSP = SubjectMSP{ID: m.ID, Name: m.Name}
		accounts, err := tx.AccountsOfMSP(ctx, m.ID)
		if err != nil {
			return err
		}
		for _, acc := range accounts {
			subject.Accounts = append(subject.Accounts, SubjectAccount{ID: acc.ID, Username: acc.Username})
		}
		local, err = localBlockers(ctx, tx, m.ID, a.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	blocking := append(local, a.externalBlockers(ctx, subject)...)
	if blocking == nil {
		blocking = []atrium.Blocker{}
	}
	return &DeletionReport{OK: len(blocking) == 0, Blocking: blocking}, nil
}

// DeletionChecks is the dry run of the deletion checks; only the MSP's
// top-level account may run it (EForbidden).
func (a *App) DeletionChecks(ctx context.Context, p *Principal) (*DeletionReport, error) {
	if err := a.requireOwner(p); err != nil {
		return nil, err
	}
	return a.runChecks(ctx, p)
}

// DeleteMSP deletes the principal's MSP account for good: its accounts,
// sessions, codes, tickets, images, holdings and personal data go in one
// transaction, a tombstone event without personal data stays, and every
// account's linked channels are told. It needs the top-level account
// (EForbidden), the deletion terms accepted (ETermsNotAccepted; recorded as a
// signing with scenario account_deletion), a ticket for purpose
// "delete_account" (ETicketInvalid), and every check passing, run here whatever
// the client did before (EDeletionBlocked with "blocking").
func (a *App) DeleteMSP(ctx context.Context, p *Principal, ticket string, acceptTerms bool) error {
	if err := a.requireOwner(p); err != nil {
		return err
	}
	if !acceptTerms {
		return atrium.Errorf(atrium.ETermsNotAccepted, "Read and accept the Terms and Conditions on Deletion first.")
	}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		if len(ticket) == 0 || len(ticket) > 128 {
			return atrium.Errorf(atrium.ETicketInvalid, "Verify your identity first.")
		}
		if _, err := tx.PeekTicket(ctx, HashToken(ticket), p.Account.ID, p.Session.ID, atrium.PurposeDeleteAccount, a.now()); err != nil {
			return err
		}
		return a.signDeletionTerms(ctx, tx, p)
	})
	if err != nil {
		return err
	}
	report, err := a.runChecks(ctx, p)
	if err != nil {
		return err
	}
	if !report.OK {
		return blocked(report.Blocking)
	}
	now := a.now()
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := a.useTicket(ctx, tx, p, ticket, atrium.PurposeDeleteAccount); err != nil {
			return err
		}
		if err := tx.LockMSP(ctx, p.Account.MSPID); err != nil {
			return err
		}
		// Something may have been added since the checks: look again, inside.
		local, err := localBlockers(ctx, tx, p.Account.MSPID, now)
		if err != nil {
			return err
		}
		if len(local) > 0 {
			return blocked(local)
		}
		m, err := tx.MSPByID(ctx, p.Account.MSPID)
		if err != nil {
			return err
		}
		accounts, err := tx.AccountsOfMSP(ctx, m.ID)
		if err != nil {
			return err
		}
		ids := make([]int64, len(accounts))
		for i, acc := range accounts {
			ids[i] = acc.ID
		}
		if err := tx.DeleteMessagesOf(ctx, ids); err != nil {
			return err
		}
		if err := a.failpoint("messages"); err != nil {
			return err
		}
		for _, acc := range accounts {
			if err := a.noticeDeleted(ctx, tx, acc, m.Name); err != nil {
				return err
			}
			if err := tx.DeleteAccount(ctx, acc.ID); err != nil {
				return err
			}
			if err := a.failpoint("account"); err != nil {
				return err
			}
		}
		if err := tx.DeleteMSP(ctx, m.ID); err != nil {
			return err
		}
		if err := a.failpoint("msp"); err != nil {
			return err
		}
		if _, err := tx.DeleteUnusedImages(ctx); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{AccountID: p.Account.ID, MSPID: m.ID, Action: "msp.delete", ClientIP: p.ClientIP,
			Detail: "tombstone accounts=" + strconv.Itoa(len(accounts))})
	})
}

func blocked(b []atrium.Blocker) error {
	return atrium.Errorf(atrium.EDeletionBlocked, "The MSP account cannot be deleted yet: release what is listed first.").With("blocking", b)
}

// signDeletionTerms records that the principal accepted the current deletion
// terms, once per version.
func (a *App) signDeletionTerms(ctx context.Context, tx *store.Tx, p *Principal) error {
	v, err := tx.LatestAgreementVersion(ctx, atrium.AgreementDeletion)
	if err != nil || v == 0 {
		return err
	}
	signed, err := tx.SignedVersions(ctx, p.Account.ID)
	if err != nil || signed[atrium.AgreementDeletion] >= v {
		return err
	}
	s := &atrium.Signing{AccountID: p.Account.ID, Type: atrium.AgreementDeletion, Version: v, Scenario: atrium.ScenarioAccountDeletion, SignedAt: a.now(), ClientIP: p.ClientIP}
	if err := tx.InsertSigning(ctx, s); err != nil {
		return err
	}
	ev := accountEvent(p.Account, "agreement.sign", p.ClientIP)
	ev.Detail = "type=" + atrium.AgreementDeletion + " version=" + itoa(v) + " scenario=" + atrium.ScenarioAccountDeletion
	return a.event(ctx, tx, ev)
}

// noticeDeleted queues the notice of deletion to an account's linked channels.
// It is marked sensitive so that the body is wiped once delivered.
func (a *App) noticeDeleted(ctx context.Context, tx *store.Tx, acc *atrium.Account, mspName string) error {
	data := map[string]string{"Username": acc.Username, "MSP": mspName, "At": a.now().Format("2006-01-02 15:04 UTC")}
	for _, ch := range []struct{ channel, to string }{{notify.ChannelEmail, acc.Email}, {notify.ChannelSMS, acc.Phone}} {
		if ch.to == "" {
			continue
		}
		if err := a.Notify.Enqueue(ctx, tx, notify.Message{Channel: ch.channel, To: ch.to, Kind: notify.KindAccountDeleted, Lang: acc.Language, Data: data, Sensitive: true}); err != nil {
			return err
		}
	}
	return nil
}

// failpoint lets a test fail the deletion between two steps.
func (a *App) failpoint(step string) error {
	if a.Failpoint != nil {
		return a.Failpoint(step)
	}
	return nil
}
