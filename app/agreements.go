package app

import (
	"context"
	"slices"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/store"
)

// AgreementStatus is the current version of an agreement and whether the account
// signed it.
type AgreementStatus struct {
	*atrium.Agreement
	Signed bool
}

// Agreements returns the current version of every agreement type and whether the
// principal signed it.
func (a *App) Agreements(ctx context.Context, p *Principal) ([]AgreementStatus, error) {
	var out []AgreementStatus
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		current, err := tx.CurrentAgreements(ctx)
		if err != nil {
			return err
		}
		signed, err := tx.SignedVersions(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		for _, ag := range current {
			out = append(out, AgreementStatus{Agreement: ag, Signed: signed[ag.Type] >= ag.Version})
		}
		return nil
	})
	return out, err
}

// Agreement returns the current version of one agreement type; ENotFound if the
// type is unknown or has no version.
func (a *App) Agreement(ctx context.Context, typ string) (*atrium.Agreement, error) {
	var out *atrium.Agreement
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		current, err := tx.CurrentAgreements(ctx)
		for _, ag := range current {
			if ag.Type == typ {
				out = ag
			}
		}
		return err
	})
	if err == nil && out == nil {
		err = atrium.Errorf(atrium.ENotFound, "No such agreement.")
	}
	return out, err
}

// SignItem names an agreement version being signed.
type SignItem struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
}

// SignAgreements records the principal's signing of the given current versions
// of the sign-in agreements (scenario first_login for a type never signed before,
// agreement_update otherwise) and clears the sign_agreements gate once every
// current version is signed. EAgreementOutdated if a version is not the current
// one; EInvalid for the deletion terms, which are signed only when deleting.
func (a *App) SignAgreements(ctx context.Context, p *Principal, items []SignItem) error {
	if len(items) == 0 || len(items) > len(atrium.AgreementTypes) {
		return atrium.Errorf(atrium.EInvalid, "Name the agreements to sign.").With("field", "agreements")
	}
	now := a.now()
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		current, err := tx.CurrentAgreements(ctx)
		if err != nil {
			return err
		}
		signed, err := tx.SignedVersions(ctx, p.Account.ID)
		if err != nil {
			return err
		}
		versions := map[string]int{}
		for _, ag := range current {
			versions[ag.Type] = ag.Version
		}
		for _, it := range items {
			if !slices.Contains(atrium.LoginAgreementTypes, it.Type) {
				return atrium.Errorf(atrium.EInvalid, "%q cannot be signed here.", it.Type).With("field", "agreements")
			}
			if versions[it.Type] != it.Version {
				return atrium.Errorf(atrium.EAgreementOutdated, "A newer version of this agreement has been published; read it and sign again.").
					With("type", it.Type).With("current_version", versions[it.Type])
			}
			if signed[it.Type] >= it.Version {
				continue // signed already: no second record
			}
			scenario := atrium.ScenarioAgreementUpdate
			if signed[it.Type] == 0 {
				scenario = atrium.ScenarioFirstLogin
			}
			s := &atrium.Signing{AccountID: p.Account.ID, Type: it.Type, Version: it.Version, Scenario: scenario, SignedAt: now, ClientIP: p.ClientIP}
			if err := tx.InsertSigning(ctx, s); err != nil {
				return err
			}
			signed[it.Type] = it.Version
			ev := accountEvent(p.Account, "agreement.sign", p.ClientIP)
			ev.Detail = "type=" + it.Type + " version=" + itoa(it.Version) + " scenario=" + scenario
			if err := a.event(ctx, tx, ev); err != nil {
				return err
			}
		}
		pending := false
		for _, t := range atrium.LoginAgreementTypes {
			if v, ok := versions[t]; ok && signed[t] < v {
				pending = true
			}
		}
		if pending != p.Account.AgreementsPending {
			if err := tx.SetAgreementsPending(ctx, p.Account.ID, pending); err != nil {
				return err
			}
			p.Account.AgreementsPending = pending
		}
		return nil
	})
}

// Signings returns the principal's signing records, newest first.
func (a *App) Signings(ctx context.Context, p *Principal) ([]*atrium.Signing, error) {
	var out []*atrium.Signing
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Signings(ctx, p.Account.ID)
		return err
	})
	return out, err
}

// MSP returns the principal's MSP; EForbidden for a tenant account.
func (a *App) MSP(ctx context.Context, p *Principal) (*atrium.MSP, error) {
	if p.Account.Kind != atrium.KindMSP {
		return nil, atrium.Errorf(atrium.EForbidden, "Only MSP accounts have MSP information.")
	}
	var m *atrium.MSP
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		m, err = tx.MSPByID(ctx, p.Account.MSPID)
		return err
	})
	return m, err
}
