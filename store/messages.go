package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-console/atrium"
)

// Message statuses.
const (
	MessageQueued = "queued"
	MessageSent   = "sent"
	MessageFailed = "failed"
)

// Message is an email or SMS in the outbox. Body is sealed (encrypted and
// authenticated) by the notify package: a verification code in it is never
// stored in plain text.
type Message struct {
	ID          int64
	AccountID   int64
	Channel     string
	Destination string
	Kind        string
	Subject     string
	Body        []byte
	Sensitive   bool
	Status      string
	Attempts    int
	LastError   string
	CreatedAt   time.Time
	SentAt      *time.Time
}

const messageSelect = `SELECT id, COALESCE(account_id, 0), channel, destination, kind, subject, body, sensitive, status, attempts, last_error, created_at, sent_at FROM messages`

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var created int64
	var sent sql.NullInt64
	if err := row.Scan(&m.ID, &m.AccountID, &m.Channel, &m.Destination, &m.Kind, &m.Subject, &m.Body, &m.Sensitive, &m.Status, &m.Attempts, &m.LastError, &created, &sent); err != nil {
		return nil, wrap(err)
	}
	m.CreatedAt, m.SentAt = fromUS(created), fromNullUS(sent)
	return &m, nil
}

// InsertMessage queues a message and sets its ID.
func (tx *Tx) InsertMessage(ctx context.Context, m *Message) error {
	return wrap(tx.q.QueryRowContext(ctx, `INSERT INTO messages (account_id, channel, destination, kind, subject, body, sensitive, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		nullInt(m.AccountID), m.Channel, m.Destination, m.Kind, m.Subject, m.Body, m.Sensitive, MessageQueued, us(m.CreatedAt)).Scan(&m.ID))
}

// MessageByID returns a message; ENotFound if there is none.
func (tx *Tx) MessageByID(ctx context.Context, id int64) (*Message, error) {
	return scanMessage(tx.q.QueryRowContext(ctx, messageSelect+` WHERE id = $1`, id))
}

// RecordDelivery notes a delivery attempt: status sent, queued (to be retried)
// or failed, with the error of the attempt. When wipe is set the body is
// emptied, so a delivered code no longer exists even sealed.
func (tx *Tx) RecordDelivery(ctx context.Context, id int64, status string, attempts int, lastError string, now time.Time, wipe bool) error {
	var sent any
	if status == MessageSent {
		sent = us(now)
	}
	q := `UPDATE messages SET status = $1, attempts = $2, last_error = $3, sent_at = $4 WHERE id = $5`
	if wipe {
		q = `UPDATE messages SET status = $1, attempts = $2, last_error = $3, sent_at = $4, body = '' WHERE id = $5`
	}
	return tx.exec1(ctx, q, status, attempts, lastError, sent, id)
}

// MessageFilter selects messages; zero fields do not filter.
type MessageFilter struct {
	Status    string
	AccountID int64
	Limit     int
}

// Messages returns messages matching f, oldest first (newest last), at most
// f.Limit (default 100, at most 1000) of the newest.
func (tx *Tx) Messages(ctx context.Context, f MessageFilter) ([]*Message, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	} else if limit > 1000 {
		limit = 1000
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT * FROM (`+messageSelect+`
		WHERE ($1 = '' OR status = $1) AND ($2 = 0 OR account_id = $2) ORDER BY id DESC LIMIT $3) AS newest ORDER BY id`,
		f.Status, f.AccountID, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err())
}

// SetUsername renames an account; EUsernameTaken if the name (without regard to
// case and look-alikes) is in use.
func (tx *Tx) SetUsername(ctx context.Context, id int64, username string) error {
	return tx.exec1(ctx, `UPDATE accounts SET username = $1, username_key = $2 WHERE id = $3`, username, atrium.UsernameKey(username), id)
}

// SetEmail links (or, with "", unlinks) an email address; EConflict if it is
// linked to another account.
func (tx *Tx) SetEmail(ctx context.Context, id int64, email string) error {
	return tx.exec1(ctx, `UPDATE accounts SET email = $1, email_key = $2 WHERE id = $3`, nullString(email), nullString(EmailKey(email)), id)
}

// SetPhone links (or, with "", unlinks) a phone number in E.164; EConflict if it
// is linked to another account.
func (tx *Tx) SetPhone(ctx context.Context, id int64, phone string) error {
	return tx.exec1(ctx, `UPDATE accounts SET phone = $1 WHERE id = $2`, nullString(phone), id)
}

// SetTwoFactor turns two-factor authentication on or off.
func (tx *Tx) SetTwoFactor(ctx context.Context, id int64, on bool) error {
	return tx.exec1(ctx, `UPDATE accounts SET two_factor_enabled = $1 WHERE id = $2`, on, id)
}

// AccountsDueReminder returns accounts with a linked email whose password was
// last changed between from and to and that were not reminded since.
func (tx *Tx) AccountsDueReminder(ctx context.Context, from, to time.Time, limit int) ([]*atrium.Account, error) {
	return scanAccounts(tx.q.QueryContext(ctx, accountSelect+`
		WHERE a.email IS NOT NULL AND a.password_changed_at >= $1 AND a.password_changed_at < $2
		  AND (a.password_reminded_at IS NULL OR a.password_reminded_at < a.password_changed_at)
		ORDER BY a.id LIMIT $3`, us(from), us(to), limit))
}

// MarkReminded notes that the account was reminded of its password expiry.
func (tx *Tx) MarkReminded(ctx context.Context, id int64, now time.Time) error {
	return tx.exec1(ctx, `UPDATE accounts SET password_reminded_at = $1 WHERE id = $2`, us(now), id)
}

// SQL returns the transaction's *sql.Tx, for libraries that write in the same
// transaction (the job queue); nil outside a write transaction.
func (tx *Tx) SQL() *sql.Tx {
	t, _ := tx.q.(*sql.Tx)
	return t
}

// Pool returns the database/sql pool that writes go through; the job queue
// works on it.
func (db *DB) Pool() *sql.DB { return db.write }
