package store

import (
	"context"
	"time"
)

// SetTOTPSecret stores a sealed authenticator secret that is being set up; it
// is not used for sign-in until EnableTOTP.
func (tx *Tx) SetTOTPSecret(ctx context.Context, accountID int64, sealed []byte) error {
	return tx.exec1(ctx, `UPDATE accounts SET totp_secret = $1, totp_enabled = FALSE WHERE id = $2`, sealed, accountID)
}

// TOTPSecret returns the account's sealed authenticator secret (nil if none),
// whether it is on, and the last time step accepted.
func (tx *Tx) TOTPSecret(ctx context.Context, accountID int64) (sealed []byte, enabled bool, lastStep int64, err error) {
	err = wrap(tx.q.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled, totp_last_step FROM accounts WHERE id = $1`, accountID).Scan(&sealed, &enabled, &lastStep))
	return sealed, enabled, lastStep, err
}

// EnableTOTP turns the authenticator on.
func (tx *Tx) EnableTOTP(ctx context.Context, accountID int64) error {
	return tx.exec1(ctx, `UPDATE accounts SET totp_enabled = TRUE WHERE id = $1 AND totp_secret IS NOT NULL`, accountID)
}

// DisableTOTP turns the authenticator off and forgets its secret and recovery
// codes.
func (tx *Tx) DisableTOTP(ctx context.Context, accountID int64) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
		return wrap(err)
	}
	return tx.exec1(ctx, `UPDATE accounts SET totp_secret = NULL, totp_enabled = FALSE WHERE id = $1`, accountID)
}

// AdvanceTOTPStep records that the code of time step was used, in one
// statement: a code (its step or an earlier one) is never accepted twice.
// ENotFound when the step was used already.
func (tx *Tx) AdvanceTOTPStep(ctx context.Context, accountID, step int64) error {
	return tx.exec1(ctx, `UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, accountID)
}

// ReplaceRecoveryCodes stores new recovery code hashes instead of the old.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, accountID int64, hashes [][]byte) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
		return wrap(err)
	}
	for _, h := range hashes {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)`, accountID, h); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// UseRecoveryCode spends a recovery code; ENotFound if the account has no
// unused code with that hash.
func (tx *Tx) UseRecoveryCode(ctx context.Context, accountID int64, hash []byte, now time.Time) error {
	return tx.exec1(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL`, us(now), accountID, hash)
}

// UnusedRecoveryCodes counts the account's recovery codes left.
func (tx *Tx) UnusedRecoveryCodes(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL`, accountID).Scan(&n)
	return n, wrap(err)
}

// ClaimChallengeAttempt counts one try at a sign-in challenge's second factor;
// ENotFound once max tries were made.
func (tx *Tx) ClaimChallengeAttempt(ctx context.Context, id int64, max int) error {
	return tx.exec1(ctx, `UPDATE login_challenges SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND used_at IS NULL`, id, max)
}
