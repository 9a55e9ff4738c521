package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-console/atrium"
)

// Holding is something that blocks deleting an MSP until it is released.
type Holding struct {
	ID          int64
	MSPID       int64
	AccountID   int64 // 0 when it belongs to the MSP as a whole
	Kind        string
	Ref         string
	Description string
	CreatedAt   time.Time
}

// InsertHolding registers a holding and sets its ID.
func (tx *Tx) InsertHolding(ctx context.Context, h *Holding) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO holdings (msp_id, account_id, kind, ref, description, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		h.MSPID, nullInt(h.AccountID), h.Kind, h.Ref, h.Description, us(h.CreatedAt)).Scan(&h.ID))
}

// DeleteHolding releases a holding; ENotFound if there is none.
func (tx *Tx) DeleteHolding(ctx context.Context, id int64) error {
	return tx.exec1(ctx, `DELETE FROM holdings WHERE id = $1`, id)
}

// Holdings returns the MSP's holdings, oldest first.
func (tx *Tx) Holdings(ctx context.Context, mspID int64) ([]*Holding, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, msp_id, COALESCE(account_id, 0), kind, ref, description, created_at FROM holdings WHERE msp_id = $1 ORDER BY id`, mspID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*Holding
	for rows.Next() {
		var h Holding
		var created int64
		if err := rows.Scan(&h.ID, &h.MSPID, &h.AccountID, &h.Kind, &h.Ref, &h.Description, &created); err != nil {
			return nil, wrap(err)
		}
		h.CreatedAt = fromUS(created)
		out = append(out, &h)
	}
	return out, wrap(rows.Err())
}

// AgencyTenant is a tenant in an agency relationship with an MSP.
type AgencyTenant struct {
	AgencyID   int64
	TenantID   int64
	TenantName string
	ExpiresAt  *time.Time
}

// ActiveAgencies returns the MSP's agency relationships that have not expired
// at now, with their tenants.
func (tx *Tx) ActiveAgencies(ctx context.Context, mspID int64, now time.Time) ([]*AgencyTenant, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT g.id, t.id, t.name, g.expires_at FROM agencies g JOIN tenants t ON t.id = g.tenant_id
		WHERE g.msp_id = $1 AND (g.expires_at IS NULL OR g.expires_at > $2) ORDER BY g.id`, mspID, us(now))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*AgencyTenant
	for rows.Next() {
		var a AgencyTenant
		var exp sql.NullInt64
		if err := rows.Scan(&a.AgencyID, &a.TenantID, &a.TenantName, &exp); err != nil {
			return nil, wrap(err)
		}
		a.ExpiresAt = fromNullUS(exp)
		out = append(out, &a)
	}
	return out, wrap(rows.Err())
}

// AccountsOfMSP returns every account of the MSP.
func (tx *Tx) AccountsOfMSP(ctx context.Context, mspID int64) ([]*atrium.Account, error) {
	return scanAccounts(tx.q.QueryContext(ctx, accountSelect+` WHERE a.msp_id = $1 ORDER BY a.id`, mspID))
}

// LockMSP holds the MSP's row until the transaction ends, so that nothing can
// be added to it while it is being deleted (PostgreSQL; SQLite's write
// transactions run one at a time anyway).
func (tx *Tx) LockMSP(ctx context.Context, mspID int64) error {
	if tx.db.Dialect != Postgres {
		return nil
	}
	var id int64
	return wrap(tx.q.QueryRowContext(ctx, `SELECT id FROM msps WHERE id = $1 FOR UPDATE`, mspID).Scan(&id))
}

// DeleteMessagesOf removes the outbox messages of the given accounts.
func (tx *Tx) DeleteMessagesOf(ctx context.Context, accountIDs []int64) error {
	for _, id := range accountIDs {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM messages WHERE account_id = $1`, id); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// DeleteAccount deletes an account; its sessions, tickets, codes, challenges,
// password history and signings go with it.
func (tx *Tx) DeleteAccount(ctx context.Context, id int64) error {
	return tx.exec1(ctx, `DELETE FROM accounts WHERE id = $1`, id)
}

// DeleteMSP deletes an MSP; its holdings and agencies go with it. Its accounts
// must be deleted first.
func (tx *Tx) DeleteMSP(ctx context.Context, id int64) error {
	return tx.exec1(ctx, `DELETE FROM msps WHERE id = $1`, id)
}

// DeleteOldMessages removes delivered and failed messages older than before.
func (tx *Tx) DeleteOldMessages(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM messages WHERE status <> 'queued' AND created_at < $1`, us(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}
