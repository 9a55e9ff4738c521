package app

import (
	"context"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/store"
)

// SeedAgreements publishes version 1 of every agreement type that has no version
// yet, with a sample text marked as such, so that a new installation can be
// signed in to at once. The operator replaces them with real texts by publishing
// version 2.
func (a *App) SeedAgreements(ctx context.Context) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		for _, s := range sampleAgreements {
			v, err := tx.LatestAgreementVersion(ctx, s.Type)
			if err != nil {
				return err
			}
			if v > 0 {
				continue
			}
			ag := &atrium.Agreement{Type: s.Type, Version: 1, Title: s.Title, Body: s.Body, Sample: true, PublishedAt: a.now()}
			if err := tx.InsertAgreement(ctx, ag); err != nil {
				return err
			}
			if err := a.event(ctx, tx, atrium.Event{Actor: "system", Action: "agreement.publish", Detail: "type=" + s.Type + " version=1 sample=true"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Demo is the demo MSP created at the first start in development mode.
type Demo struct {
	Username        string
	InitialPassword string
	Created         bool // false when it existed already
}

const demoSetting = "demo_account"

// EnsureDemo creates, once per database, a demo MSP "Demo MSP" with the
// top-level account "demo" and a one-time initial password. Later calls report
// that it exists.
func (a *App) EnsureDemo(ctx context.Context) (*Demo, error) {
	var done string
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		done, err = tx.Setting(ctx, demoSetting)
		return err
	})
	if err != nil {
		return nil, err
	}
	if done != "" {
		return &Demo{Username: done}, nil
	}
	c, err := a.CreateMSP(ctx, MSPInput{
		Name: "Demo MSP", Industry: "IT services", Address: "1 Example Road", Phone: "+861065529988",
		Owner: OwnerInput{Username: "demo"},
	})
	if err != nil {
		return nil, err
	}
	err = a.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, demoSetting, c.Owner.Username) })
	if err != nil {
		return nil, err
	}
	return &Demo{Username: c.Owner.Username, InitialPassword: c.InitialPassword, Created: true}, nil
}
