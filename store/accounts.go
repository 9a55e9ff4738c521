package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
)

const accountSelect = `SELECT a.id, a.kind, a.role, COALESCE(a.msp_id, 0), COALESCE(a.tenant_id, 0),
	a.username, COALESCE(a.email, ''), COALESCE(a.phone, ''), a.language, a.password_hash,
	a.password_changed_at, a.password_must_change, a.agreements_pending, a.two_factor_enabled,
	a.failed_logins, a.locked_until, a.avatar_id, a.last_login_at, a.created_at,
	COALESCE(m.name, t.name, ''), COALESCE(m.authenticated, FALSE), a.totp_enabled
FROM accounts a
LEFT JOIN msps m ON m.id = a.msp_id
LEFT JOIN tenants t ON t.id = a.tenant_id`

func scanAccount(row interface{ Scan(...any) error }) (*atrium.Account, error) {
	var a atrium.Account
	var changed, created int64
	var locked, lastLogin sql.NullInt64
	err := row.Scan(&a.ID, &a.Kind, &a.Role, &a.MSPID, &a.TenantID,
		&a.Username, &a.Email, &a.Phone, &a.Language, &a.PasswordHash,
		&changed, &a.PasswordMustChange, &a.AgreementsPending, &a.TwoFactorEnabled,
		&a.FailedLogins, &locked, &a.AvatarID, &lastLogin, &created,
		&a.OrgName, &a.MSPAuthenticated, &a.TOTPEnabled)
	if err != nil {
		return nil, wrap(err)
	}
	a.PasswordChangedAt = fromUS(changed)
	a.CreatedAt = fromUS(created)
	a.LockedUntil = fromNullUS(locked)
	a.LastLoginAt = fromNullUS(lastLogin)
	return &a, nil
}

// scanAccounts reads every account of rows and closes them.
func scanAccounts(rows *sql.Rows, err error) ([]*atrium.Account, error) {
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*atrium.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

// AccountByID returns the account with its MSP's or tenant's name; ENotFound if
// there is none. Outside a transaction it uses a statement prepared at start.
func (tx *Tx) AccountByID(ctx context.Context, id int64) (*atrium.Account, error) {
	if tx.q == tx.db.read && tx.db.accountByID != nil {
		return scanAccount(tx.db.accountByID.QueryRowContext(ctx, id))
	}
	return scanAccount(tx.q.QueryRowContext(ctx, accountSelect+` WHERE a.id = $1`, id))
}

// AccountByIdentifier returns the account whose username key, email key or phone
// is key; ENotFound if there is none.
func (tx *Tx) AccountByIdentifier(ctx context.Context, usernameKey, emailKey, phone string) (*atrium.Account, error) {
	return scanAccount(tx.q.QueryRowContext(ctx, accountSelect+`
		WHERE a.username_key = $1 OR a.email_key = $2 OR a.phone = $3
		ORDER BY CASE WHEN a.username_key = $1 THEN 0 ELSE 1 END LIMIT 1`, usernameKey, emailKey, phone))
}

// EmailKey returns the form of an email address that uniqueness is enforced on.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// InsertAccount creates a and sets its ID. It returns EUsernameTaken if the
// username (without regard to case and look-alikes) is in use, and EConflict if
// the email or phone is linked to another account.
func (tx *Tx) InsertAccount(ctx context.Context, a *atrium.Account) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO accounts (kind, role, msp_id, tenant_id, username, username_key,
		email, email_key, phone, language, password_hash, password_changed_at, password_must_change,
		agreements_pending, two_factor_enabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		a.Kind, a.Role, nullInt(a.MSPID), nullInt(a.TenantID), a.Username, atrium.UsernameKey(a.Username),
		nullString(a.Email), nullString(EmailKey(a.Email)), nullString(a.Phone), a.Language, a.PasswordHash,
		us(a.PasswordChangedAt), a.PasswordMustChange, a.AgreementsPending, a.TwoFactorEnabled, us(a.CreatedAt),
	).Scan(&a.ID)
	return accountConflict(err)
}

func accountConflict(err error) error {
	if col, ok := uniqueViolation(err); ok {
		switch {
		case strings.Contains(col, "username"):
			return atrium.Errorf(atrium.EUsernameTaken, "That username is taken.")
		case strings.Contains(col, "email"):
			return atrium.Errorf(atrium.EConflict, "That email address is linked to another account.").With("field", "email")
		case strings.Contains(col, "phone"):
			return atrium.Errorf(atrium.EConflict, "That phone number is linked to another account.").With("field", "phone")
		}
	}
	return wrap(err)
}

// SetPassword stores a new password hash, moves the old one into the history and
// keeps only the newest keep entries there.
func (tx *Tx) SetPassword(ctx context.Context, id int64, oldHash, newHash string, now time.Time, mustChange bool, keep int) error {
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO password_history (account_id, hash, retired_at) VALUES ($1, $2, $3)`, id, oldHash, us(now)); err != nil {
		return wrap(err)
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM password_history WHERE account_id = $1 AND id NOT IN
		(SELECT id FROM password_history WHERE account_id = $1 ORDER BY id DESC LIMIT $2)`, id, keep); err != nil {
		return wrap(err)
	}
	return tx.exec1(ctx, `UPDATE accounts SET password_hash = $1, password_changed_at = $2, password_must_change = $3 WHERE id = $4`,
		newHash, us(now), mustChange, id)
}

// RehashPassword replaces the hash of the same password (new parameters).
func (tx *Tx) RehashPassword(ctx context.Context, id int64, hash string) error {
	return tx.exec1(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, id)
}

// PasswordHistory returns the newest n retired password hashes of the account.
func (tx *Tx) PasswordHistory(ctx context.Context, id int64, n int) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT hash FROM password_history WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, id, n)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, wrap(err)
		}
		out = append(out, h)
	}
	return out, wrap(rows.Err())
}

// RecordLoginFailure counts a failed password in one statement, so concurrent
// failures are all counted. When the count reaches threshold the account is locked
// until lockUntil and the count starts again. It returns the lock, if any.
func (tx *Tx) RecordLoginFailure(ctx context.Context, id int64, threshold int, lockUntil time.Time) (*time.Time, error) {
	var locked sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `UPDATE accounts SET
		locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END,
		failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END
		WHERE id = $3 RETURNING CASE WHEN failed_logins = 0 THEN locked_until ELSE NULL END`,
		threshold, us(lockUntil), id).Scan(&locked)
	if err != nil {
		return nil, wrap(err)
	}
	return fromNullUS(locked), nil
}

// RecordLoginSuccess clears the failure count and the lock and notes the time.
func (tx *Tx) RecordLoginSuccess(ctx context.Context, id int64, now time.Time) error {
	return tx.exec1(ctx, `UPDATE accounts SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2`, us(now), id)
}

// SetAgreementsPending sets whether the account must sign agreements.
func (tx *Tx) SetAgreementsPending(ctx context.Context, id int64, pending bool) error {
	return tx.exec1(ctx, `UPDATE accounts SET agreements_pending = $1 WHERE id = $2`, pending, id)
}

// SetAllAgreementsPending makes every account sign again at its next request.
func (tx *Tx) SetAllAgreementsPending(ctx context.Context) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE accounts SET agreements_pending = TRUE WHERE agreements_pending = FALSE`)
	return wrap(err)
}

// SetLanguage stores the account's preferred console language.
func (tx *Tx) SetLanguage(ctx context.Context, id int64, lang string) error {
	return tx.exec1(ctx, `UPDATE accounts SET language = $1 WHERE id = $2`, lang, id)
}

// exec1 runs a statement that must change exactly one row; ENotFound otherwise.
func (tx *Tx) exec1(ctx context.Context, query string, args ...any) error {
	res, err := tx.q.ExecContext(ctx, query, args...)
	if err != nil {
		return accountConflict(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	return nil
}

// InsertMSP creates m and sets its ID.
func (tx *Tx) InsertMSP(ctx context.Context, m *atrium.MSP) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO msps (name, industry, address, phone, authenticated, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, m.Name, m.Industry, m.Address, m.Phone, m.Authenticated, us(m.CreatedAt)).Scan(&m.ID))
}

// MSPByID returns the MSP; ENotFound if there is none.
func (tx *Tx) MSPByID(ctx context.Context, id int64) (*atrium.MSP, error) {
	var m atrium.MSP
	var created int64
	err := tx.q.QueryRowContext(ctx, `SELECT id, name, industry, address, phone, authenticated, logo_id, created_at FROM msps WHERE id = $1`, id).
		Scan(&m.ID, &m.Name, &m.Industry, &m.Address, &m.Phone, &m.Authenticated, &m.LogoID, &created)
	if err != nil {
		return nil, wrap(err)
	}
	m.CreatedAt = fromUS(created)
	return &m, nil
}

// SetMSPAuthenticated sets the MSP's authentication badge.
func (tx *Tx) SetMSPAuthenticated(ctx context.Context, id int64, authenticated bool) error {
	return tx.exec1(ctx, `UPDATE msps SET authenticated = $1 WHERE id = $2`, authenticated, id)
}

// InsertTenant creates t and sets its ID.
func (tx *Tx) InsertTenant(ctx context.Context, t *atrium.Tenant) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING id`, t.Name, us(t.CreatedAt)).Scan(&t.ID))
}

// TenantByID returns the tenant; ENotFound if there is none.
func (tx *Tx) TenantByID(ctx context.Context, id int64) (*atrium.Tenant, error) {
	var t atrium.Tenant
	var created int64
	if err := tx.q.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id).Scan(&t.ID, &t.Name, &created); err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt = fromUS(created)
	return &t, nil
}

// InsertAgency creates ag and sets its ID; EConflict if the tenant already has an
// agency with that MSP, ENotFound if either does not exist.
func (tx *Tx) InsertAgency(ctx context.Context, ag *atrium.Agency) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO agencies (tenant_id, msp_id, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		ag.TenantID, ag.MSPID, us(ag.CreatedAt), nullUS(ag.ExpiresAt)).Scan(&ag.ID)
	if _, ok := uniqueViolation(err); ok {
		return atrium.Errorf(atrium.EConflict, "The tenant already has an agency relationship with this MSP.")
	}
	return wrap(err)
}

// DeleteAgency removes an agency; ENotFound if there is none.
func (tx *Tx) DeleteAgency(ctx context.Context, id int64) error {
	return tx.exec1(ctx, `DELETE FROM agencies WHERE id = $1`, id)
}

// Setting returns a stored setting, "" if unset.
func (tx *Tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := tx.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, wrap(err)
}

// SetSetting stores a setting.
func (tx *Tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return wrap(err)
}
