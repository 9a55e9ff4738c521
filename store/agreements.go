package store

import (
	"context"

	"github.com/atrium-console/atrium"
)

// InsertAgreement publishes a version; EConflict if that version exists.
func (tx *Tx) InsertAgreement(ctx context.Context, a *atrium.Agreement) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO agreements (type, version, title, body, sample, published_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, a.Type, a.Version, a.Title, a.Body, a.Sample, us(a.PublishedAt)).Scan(&a.ID)
	if _, ok := uniqueViolation(err); ok {
		return atrium.Errorf(atrium.EConflict, "Version %d of %s is already published.", a.Version, a.Type)
	}
	return wrap(err)
}

// CurrentAgreements returns the newest version of each agreement type, in the
// order of atrium.AgreementTypes; types with no version are left out.
func (tx *Tx) CurrentAgreements(ctx context.Context) ([]*atrium.Agreement, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT a.id, a.type, a.version, a.title, a.body, a.sample, a.published_at
		FROM agreements a WHERE a.version = (SELECT MAX(b.version) FROM agreements b WHERE b.type = a.type)`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	byType := map[string]*atrium.Agreement{}
	for rows.Next() {
		var a atrium.Agreement
		var published int64
		if err := rows.Scan(&a.ID, &a.Type, &a.Version, &a.Title, &a.Body, &a.Sample, &published); err != nil {
			return nil, wrap(err)
		}
		a.PublishedAt = fromUS(published)
		byType[a.Type] = &a
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	out := make([]*atrium.Agreement, 0, len(byType))
	for _, t := range atrium.AgreementTypes {
		if a, ok := byType[t]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// LatestAgreementVersion returns the newest version number of a type, 0 if none.
func (tx *Tx) LatestAgreementVersion(ctx context.Context, typ string) (int, error) {
	var v int
	err := tx.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM agreements WHERE type = $1`, typ).Scan(&v)
	return v, wrap(err)
}

// InsertSigning appends a signing record.
func (tx *Tx) InsertSigning(ctx context.Context, s *atrium.Signing) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO signings (account_id, type, version, scenario, signed_at, client_ip)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, s.AccountID, s.Type, s.Version, s.Scenario, us(s.SignedAt), s.ClientIP).Scan(&s.ID))
}

// Signings returns every signing record of the account, newest first.
func (tx *Tx) Signings(ctx context.Context, accountID int64) ([]*atrium.Signing, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, account_id, type, version, scenario, signed_at, client_ip
		FROM signings WHERE account_id = $1 ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*atrium.Signing
	for rows.Next() {
		var s atrium.Signing
		var signed int64
		if err := rows.Scan(&s.ID, &s.AccountID, &s.Type, &s.Version, &s.Scenario, &signed, &s.ClientIP); err != nil {
			return nil, wrap(err)
		}
		s.SignedAt = fromUS(signed)
		out = append(out, &s)
	}
	return out, wrap(rows.Err())
}

// SignedVersions returns, per agreement type, the newest version the account signed.
func (tx *Tx) SignedVersions(ctx context.Context, accountID int64) (map[string]int, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT type, MAX(version) FROM signings WHERE account_id = $1 GROUP BY type`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var t string
		var v int
		if err := rows.Scan(&t, &v); err != nil {
			return nil, wrap(err)
		}
		out[t] = v
	}
	return out, wrap(rows.Err())
}

// InsertEvent appends an audit event and sets its ID.
func (tx *Tx) InsertEvent(ctx context.Context, e *atrium.Event) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO events (at, account_id, msp_id, actor, action, outcome, client_ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		us(e.At), nullInt(e.AccountID), nullInt(e.MSPID), e.Actor, e.Action, e.Outcome, e.ClientIP, e.Detail).Scan(&e.ID))
}

// Events returns audit events matching f, newest first, at most f.Limit (default
// 50, at most 500).
func (tx *Tx) Events(ctx context.Context, f atrium.EventFilter) ([]*atrium.Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	} else if limit > 500 {
		limit = 500
	}
	var until, before int64 = 1 << 62, 1 << 62
	if !f.Until.IsZero() {
		until = us(f.Until)
	}
	if f.BeforeID > 0 {
		before = f.BeforeID
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT id, at, COALESCE(account_id, 0), COALESCE(msp_id, 0), actor, action, outcome, client_ip, detail
		FROM events
		WHERE ($1 = 0 OR account_id = $1) AND ($2 = 0 OR msp_id = $2) AND ($3 = '' OR action = $3)
		  AND at >= $4 AND at < $5 AND id < $6
		ORDER BY id DESC LIMIT $7`,
		f.AccountID, f.MSPID, f.Action, us(f.Since), until, before, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*atrium.Event
	for rows.Next() {
		var e atrium.Event
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.AccountID, &e.MSPID, &e.Actor, &e.Action, &e.Outcome, &e.ClientIP, &e.Detail); err != nil {
			return nil, wrap(err)
		}
		e.At = fromUS(at)
		out = append(out, &e)
	}
	return out, wrap(rows.Err())
}
