package store

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/atrium-console/atrium"
)

// Code is a stored verification code: only its keyed hash is kept.
type Code struct {
	ID          int64
	AccountID   int64
	SessionID   int64 // the session that asked, for in-session verification and linking
	ChallengeID int64 // the sign-in challenge, for the second factor
	TicketID    int64 // the ticket that authorised linking a new address
	Purpose     string
	Channel     string
	Destination string
	ClientIP    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Attempts    int
}

// CodeScope names the one active code a redemption looks for.
type CodeScope struct {
	AccountID   int64
	SessionID   int64
	ChallengeID int64
	Purpose     string
	Channel     string
}

// LockKeys serialises the transaction with every other one that locks one of
// the same keys, until it ends. SQLite needs nothing: its write transactions run
// one at a time. PostgreSQL takes transaction-scoped advisory locks, in a fixed
// order so two transactions cannot deadlock.
func (tx *Tx) LockKeys(ctx context.Context, keys ...string) error {
	if tx.db.Dialect != Postgres {
		return nil
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if _, err := tx.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// CodeStats counts the codes behind the sending limits: when the newest code to
// destination was made, and how many codes went to the account since
// accountSince, to the destination since destSince and from the client address
// since clientSince.
type CodeStats struct {
	LastToDestination *time.Time
	Account           int
	Destination       int
	Client            int
}

// CodeStats returns the counts of the sending limits.
func (tx *Tx) CodeStats(ctx context.Context, accountID int64, destination, clientIP string, accountSince, destSince, clientSince time.Time) (*CodeStats, error) {
	var st CodeStats
	var last sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `SELECT
		(SELECT MAX(created_at) FROM verification_codes WHERE destination = $1),
		(SELECT COUNT(*) FROM verification_codes WHERE account_id = $2 AND created_at >= $3),
		(SELECT COUNT(*) FROM verification_codes WHERE destination = $1 AND created_at >= $4),
		(SELECT COUNT(*) FROM verification_codes WHERE client_ip = $5 AND $5 <> '' AND created_at >= $6)`,
		destination, accountID, us(accountSince), us(destSince), clientIP, us(clientSince)).
		Scan(&last, &st.Account, &st.Destination, &st.Client)
	if err != nil {
		return nil, wrap(err)
	}
	st.LastToDestination = fromNullUS(last)
	return &st, nil
}

// InsertCode stores a code under its keyed hash, superseding every earlier
// unused code of the same scope, and sets its ID.
func (tx *Tx) InsertCode(ctx context.Context, c *Code, hash []byte) error {
	if _, err := tx.q.ExecContext(ctx, `UPDATE verification_codes SET superseded_at = $1
		WHERE account_id = $2 AND purpose = $3 AND channel = $4 AND COALESCE(session_id, 0) = $5 AND COALESCE(challenge_id, 0) = $6
		  AND used_at IS NULL AND superseded_at IS NULL`,
		us(c.CreatedAt), c.AccountID, c.Purpose, c.Channel, c.SessionID, c.ChallengeID); err != nil {
		return wrap(err)
	}
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO verification_codes (account_id, session_id, challenge_id, ticket_id, purpose, channel,
		destination, code_hash, client_ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		c.AccountID, nullInt(c.SessionID), nullInt(c.ChallengeID), nullInt(c.TicketID), c.Purpose, c.Channel,
		c.Destination, hash, c.ClientIP, us(c.CreatedAt), us(c.ExpiresAt)).Scan(&c.ID))
}

// ClaimCodeAttempt takes one of the maxAttempts tries of the active code of the
// scope (the newest, unused, not superseded, unexpired at now) and returns it
// with its hash. The try is counted before the code is compared, in one
// statement, so however many guesses arrive at once, at most maxAttempts are
// ever compared. ENotFound when there is no active code or no try left.
func (tx *Tx) ClaimCodeAttempt(ctx context.Context, s CodeScope, now time.Time, maxAttempts int) (*Code, []byte, error) {
	var c Code
	var hash []byte
	var session, challenge, ticket sql.NullInt64
	var created, expires int64
	err := tx.q.QueryRowContext(ctx, `UPDATE verification_codes SET attempts = attempts + 1
		WHERE id = (SELECT id FROM verification_codes
			WHERE account_id = $1 AND purpose = $2 AND channel = $3 AND COALESCE(session_id, 0) = $4 AND COALESCE(challenge_id, 0) = $5
			  AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $6
			ORDER BY id DESC LIMIT 1)
		  AND attempts < $7 AND used_at IS NULL AND superseded_at IS NULL
		RETURNING id, account_id, session_id, challenge_id, ticket_id, purpose, channel, destination, client_ip, created_at, expires_at, attempts, code_hash`,
		s.AccountID, s.Purpose, s.Channel, s.SessionID, s.ChallengeID, us(now), maxAttempts).
		Scan(&c.ID, &c.AccountID, &session, &challenge, &ticket, &c.Purpose, &c.Channel, &c.Destination, &c.ClientIP, &created, &expires, &c.Attempts, &hash)
	if err != nil {
		return nil, nil, wrap(err)
	}
	c.SessionID, c.ChallengeID, c.TicketID = session.Int64, challenge.Int64, ticket.Int64
	c.CreatedAt, c.ExpiresAt = fromUS(created), fromUS(expires)
	return &c, hash, nil
}

// UseCode marks a code used; ENotFound if it was used already, so of two
// concurrent redemptions of the right code exactly one succeeds.
func (tx *Tx) UseCode(ctx context.Context, id int64, now time.Time) error {
	return tx.exec1(ctx, `UPDATE verification_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND superseded_at IS NULL`, us(now), id)
}

// CodeHashes returns every stored code hash; tests use it to check that no code
// is stored in plain text.
func (tx *Tx) CodeHashes(ctx context.Context) ([][]byte, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT code_hash FROM verification_codes`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, wrap(err)
		}
		out = append(out, h)
	}
	return out, wrap(rows.Err())
}

// Challenge is a sign-in waiting for its second factor.
type Challenge struct {
	ID        int64
	AccountID int64
	CreatedAt time.Time
	ExpiresAt time.Time
	ClientIP  string
	UserAgent string
}

// InsertChallenge stores a sign-in challenge under the hash of its ID token.
func (tx *Tx) InsertChallenge(ctx context.Context, c *Challenge, tokenHash []byte) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO login_challenges (token_hash, account_id, created_at, expires_at, client_ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, tokenHash, c.AccountID, us(c.CreatedAt), us(c.ExpiresAt), c.ClientIP, c.UserAgent).Scan(&c.ID))
}

// ChallengeByHash returns the unused, unexpired challenge stored under
// tokenHash; ENotFound otherwise.
func (tx *Tx) ChallengeByHash(ctx context.Context, tokenHash []byte, now time.Time) (*Challenge, error) {
	var c Challenge
	var created, expires int64
	err := tx.q.QueryRowContext(ctx, `SELECT id, account_id, created_at, expires_at, client_ip, user_agent FROM login_challenges
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`, tokenHash, us(now)).
		Scan(&c.ID, &c.AccountID, &created, &expires, &c.ClientIP, &c.UserAgent)
	if err != nil {
		return nil, wrap(err)
	}
	c.CreatedAt, c.ExpiresAt = fromUS(created), fromUS(expires)
	return &c, nil
}

// UseChallenge marks a challenge used; ENotFound if it was used already.
func (tx *Tx) UseChallenge(ctx context.Context, id int64, now time.Time) error {
	return tx.exec1(ctx, `UPDATE login_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, us(now), id)
}

// ConsumeTicketByID marks a ticket used by its ID, for a link confirmed with a
// code that the ticket authorised; ETicketInvalid if it was used already.
func (tx *Tx) ConsumeTicketByID(ctx context.Context, id int64, now time.Time) error {
	err := tx.exec1(ctx, `UPDATE tickets SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, us(now), id)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return atrium.Errorf(atrium.ETicketInvalid, "The verification was already used. Verify your identity again.")
	}
	return err
}

// PeekTicket returns the ticket stored under tokenHash if it is the account's
// and session's, for purpose, unused and unexpired at now, without using it;
// ETicketInvalid otherwise.
func (tx *Tx) PeekTicket(ctx context.Context, tokenHash []byte, accountID, sessionID int64, purpose string, now time.Time) (*atrium.Ticket, error) {
	var t atrium.Ticket
	var created, expires int64
	err := tx.q.QueryRowContext(ctx, `SELECT id, account_id, session_id, purpose, method, created_at, expires_at FROM tickets
		WHERE token_hash = $1 AND account_id = $2 AND session_id = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $5`,
		tokenHash, accountID, sessionID, purpose, us(now)).
		Scan(&t.ID, &t.AccountID, &t.SessionID, &t.Purpose, &t.Method, &created, &expires)
	if err == sql.ErrNoRows {
		return nil, atrium.Errorf(atrium.ETicketInvalid, "The verification is missing, expired, already used or for another action. Verify your identity again.")
	} else if err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt, t.ExpiresAt = fromUS(created), fromUS(expires)
	return &t, nil
}
