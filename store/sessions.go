package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-console/atrium"
)

const sessionSelect = `SELECT id, account_id, created_at, last_seen_at, expires_at, client_ip, user_agent FROM sessions`

func scanSession(row interface{ Scan(...any) error }) (*atrium.Session, error) {
	var s atrium.Session
	var created, seen, expires int64
	if err := row.Scan(&s.ID, &s.AccountID, &created, &seen, &expires, &s.ClientIP, &s.UserAgent); err != nil {
		return nil, wrap(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromUS(created), fromUS(seen), fromUS(expires)
	return &s, nil
}

// InsertSession stores s under the hash of its token and sets its ID.
func (tx *Tx) InsertSession(ctx context.Context, s *atrium.Session, tokenHash []byte) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, client_ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		tokenHash, s.AccountID, us(s.CreatedAt), us(s.LastSeenAt), us(s.ExpiresAt), s.ClientIP, s.UserAgent).Scan(&s.ID))
}

// SessionByTokenHash returns the session stored under tokenHash; ENotFound if none.
// It uses a statement prepared at start: it runs on every signed-in request.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash []byte) (*atrium.Session, error) {
	return scanSession(db.sessionByHash.QueryRowContext(ctx, tokenHash))
}

// AccountByID returns the account outside a transaction with the prepared
// statement; see Tx.AccountByID.
func (db *DB) AccountByID(ctx context.Context, id int64) (*atrium.Account, error) {
	return scanAccount(db.accountByID.QueryRowContext(ctx, id))
}

// TouchSession records activity on a session.
func (db *DB) TouchSession(ctx context.Context, id int64, now time.Time) error {
	_, err := db.touchSession.ExecContext(ctx, us(now), id)
	return wrap(err)
}

// SessionsByAccount lists the account's sessions, newest first.
func (tx *Tx) SessionsByAccount(ctx context.Context, accountID int64) ([]*atrium.Session, error) {
	rows, err := tx.q.QueryContext(ctx, sessionSelect+` WHERE account_id = $1 ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*atrium.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err())
}

// DeleteSession ends one session of an account; ENotFound if the account has no
// such session.
func (tx *Tx) DeleteSession(ctx context.Context, accountID, id int64) error {
	return tx.exec1(ctx, `DELETE FROM sessions WHERE id = $1 AND account_id = $2`, id, accountID)
}

// DeleteSessions ends every session of the account except keep (0 keeps none)
// and returns how many ended.
func (tx *Tx) DeleteSessions(ctx context.Context, accountID, keep int64) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id <> $2`, accountID, keep)
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// DeleteExpiredSessions removes sessions past their absolute end or idle since
// before idleBefore.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, us(now), us(idleBefore))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// InsertTicket stores t under the hash of its token and sets its ID.
func (tx *Tx) InsertTicket(ctx context.Context, t *atrium.Ticket, tokenHash []byte) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO tickets (token_hash, account_id, session_id, purpose, method, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		tokenHash, t.AccountID, t.SessionID, t.Purpose, t.Method, us(t.CreatedAt), us(t.ExpiresAt)).Scan(&t.ID))
}

// UseTicket marks the ticket stored under tokenHash as used, in one statement so
// that of two concurrent uses exactly one succeeds. The ticket must belong to the
// account and session, be for purpose, be unused and unexpired at now; otherwise
// ETicketInvalid, without saying which condition failed.
func (tx *Tx) UseTicket(ctx context.Context, tokenHash []byte, accountID, sessionID int64, purpose string, now time.Time) (*atrium.Ticket, error) {
	var t atrium.Ticket
	var created, expires, used int64
	err := tx.q.QueryRowContext(ctx, `UPDATE tickets SET used_at = $1
		WHERE token_hash = $2 AND account_id = $3 AND session_id = $4 AND purpose = $5 AND used_at IS NULL AND expires_at > $1
		RETURNING id, account_id, session_id, purpose, method, created_at, expires_at, used_at`,
		us(now), tokenHash, accountID, sessionID, purpose).
		Scan(&t.ID, &t.AccountID, &t.SessionID, &t.Purpose, &t.Method, &created, &expires, &used)
	if err == sql.ErrNoRows {
		return nil, atrium.Errorf(atrium.ETicketInvalid, "The verification is missing, expired, already used or for another action. Verify your identity again.")
	} else if err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt, t.ExpiresAt = fromUS(created), fromUS(expires)
	u := fromUS(used)
	t.UsedAt = &u
	return &t, nil
}

// InsertOperatorToken stores the hash of an operator token.
func (tx *Tx) InsertOperatorToken(ctx context.Context, name string, tokenHash []byte, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO operator_tokens (token_hash, name, created_at) VALUES ($1, $2, $3)`, tokenHash, name, us(now))
	return wrap(err)
}

// OperatorTokenName returns the name of the operator token stored under
// tokenHash; ENotFound if none.
func (tx *Tx) OperatorTokenName(ctx context.Context, tokenHash []byte) (string, error) {
	var name string
	err := tx.q.QueryRowContext(ctx, `SELECT name FROM operator_tokens WHERE token_hash = $1`, tokenHash).Scan(&name)
	return name, wrap(err)
}
