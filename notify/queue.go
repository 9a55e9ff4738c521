// Package notify delivers email and SMS through a durable outbox. A message is
// written to the messages table, and a River job that delivers it is inserted,
// in the same transaction as the change that causes it; a worker sends it with
// retries and backoff, and marks it failed (logged, visible to the operator)
// when the attempts run out. Bodies are sealed at rest. In development nothing
// leaves the machine: the outbox itself is what /dev/outbox shows.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/atrium-console/atrium/store"
)

// Channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is what a use case asks to send.
type Message struct {
	AccountID int64 // 0 when not about an account
	Channel   string
	To        string
	Kind      string
	Lang      string
	Data      map[string]string
	Sensitive bool // carries a secret (a code): wiped after delivery outside development
}

// Envelope is a rendered message handed to a Sender.
type Envelope struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers envelopes on one channel.
type Sender interface {
	Send(ctx context.Context, e Envelope) error
}

// PermanentSender is a Sender that can tell a permanent failure (a bad address)
// from a passing one; a permanent failure is not retried.
type PermanentSender interface {
	Sender
	Permanent(err error) bool
}

// Config configures a Queue.
type Config struct {
	Secret      []byte            // at least 32 bytes; seals bodies
	Senders     map[string]Sender // by channel; a channel without a sender fails its messages
	Development bool              // keep bodies after delivery for /dev/outbox
	MaxAttempts int               // delivery attempts before a message fails; default 8
	RetryDelay  func(attempt int) time.Duration
	PollEvery   time.Duration // how often workers look for work; default 1 s
	Workers     int           // deliveries at once; default 4
	Log         *slog.Logger
	Now         func() time.Time
}

// DefaultRetryDelay waits 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h, …
func DefaultRetryDelay(attempt int) time.Duration {
	steps := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute}
	if attempt-1 < len(steps) && attempt >= 1 {
		return steps[attempt-1]
	}
	return time.Hour
}

// Queue is the outbox and its workers.
type Queue struct {
	db     *store.DB
	cfg    Config
	seal   *sealer
	client *river.Client[*sql.Tx]
	log    *slog.Logger
}

// deliverArgs is the job that delivers one message.
type deliverArgs struct {
	MessageID int64 `json:"message_id"`
}

func (deliverArgs) Kind() string { return "deliver_message" }

// New builds the queue on db and applies River's migrations. Call Start to run
// workers; a queue that is never started still accepts messages.
func New(ctx context.Context, db *store.DB, cfg Config) (*Queue, error) {
	s, err := newSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	q := &Queue{db: db, cfg: cfg, seal: s, log: cfg.Log}

	var driver riverdriver.Driver[*sql.Tx]
	switch db.Dialect {
	case store.SQLite:
		driver = riversqlite.New(db.Pool())
	case store.Postgres:
		driver = riverdatabasesql.New(db.Pool())
	default:
		return nil, fmt.Errorf("notify: unknown dialect %q", db.Dialect)
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("notify: river migrations: %w", err)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{q: q}); err != nil {
		return nil, err
	}
	q.client, err = river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		MaxAttempts:       cfg.MaxAttempts,
		RetryPolicy:       retryPolicy{delay: cfg.RetryDelay},
		FetchPollInterval: cfg.PollEvery,
		FetchCooldown:     min(cfg.PollEvery, 100*time.Millisecond),
		PollOnly:          true,
		JobTimeout:        2 * time.Minute,
		Logger:            slog.New(discardBelowWarn{cfg.Log.Handler()}),
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// discardBelowWarn keeps River's own logging to warnings and errors.
type discardBelowWarn struct{ slog.Handler }

func (d discardBelowWarn) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && d.Handler.Enabled(ctx, l)
}

type retryPolicy struct{ delay func(int) time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.delay(job.Attempt))
}

// Start runs the delivery workers until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop stops fetching new deliveries and waits for those under way (until ctx
// ends).
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Subscribe reports finished delivery jobs; tests wait on it instead of sleeping.
func (q *Queue) Subscribe() (<-chan *river.Event, func()) {
	return q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
}

// Enqueue renders m, stores it sealed in the outbox and inserts the job that
// delivers it, inside tx: the message exists if and only if the change that
// caused it commits.
func (q *Queue) Enqueue(ctx context.Context, tx *store.Tx, m Message) error {
	sqlTx := tx.SQL()
	if sqlTx == nil {
		return errors.New("notify: Enqueue needs a write transaction")
	}
	subject, text, html, err := render(m.Kind, m.Lang, m.Data)
	if err != nil {
		return err
	}
	if m.Channel == ChannelSMS {
		html, subject = "", ""
	}
	sealed, err := q.seal.seal(body{Text: text, HTML: html})
	if err != nil {
		return err
	}
	rec := &store.Message{AccountID: m.AccountID, Channel: m.Channel, Destination: m.To, Kind: m.Kind, Subject: subject, Body: sealed, Sensitive: m.Sensitive, CreatedAt: q.cfg.Now().UTC()}
	if err := tx.InsertMessage(ctx, rec); err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, sqlTx, deliverArgs{MessageID: rec.ID}, nil)
	return err
}

// OutboxEntry is a message as the development outbox shows it.
type OutboxEntry struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Outbox returns the newest messages, newest last, with their bodies opened.
// It is for development and tests: production bodies of codes are wiped.
func (q *Queue) Outbox(ctx context.Context, f store.MessageFilter) ([]OutboxEntry, error) {
	var list []*store.Message
	err := q.db.View(ctx, func(tx *store.Tx) error {
		var err error
		list, err = tx.Messages(ctx, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]OutboxEntry, 0, len(list))
	for _, m := range list {
		b, err := q.seal.open(m.Body)
		if err != nil && !errors.Is(err, errWiped) {
			return nil, err
		}
		out = append(out, OutboxEntry{ID: m.ID, Channel: m.Channel, To: m.Destination, Subject: m.Subject, Body: b.Text, Kind: m.Kind, Status: m.Status, CreatedAt: m.CreatedAt})
	}
	return out, nil
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	q *Queue
}

// Work delivers one message. A passing failure returns the error so River
// retries with backoff; the last attempt, or a permanent failure, marks the
// message failed and logs it.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	q := w.q
	var m *store.Message
	err := q.db.View(ctx, func(tx *store.Tx) error {
		var err error
		m, err = tx.MessageByID(ctx, job.Args.MessageID)
		return err
	})
	if err != nil {
		return err
	}
	if m.Status != store.MessageQueued {
		return nil // delivered or given up already (a retried job after a crash)
	}
	wipe := m.Sensitive && !q.cfg.Development
	b, err := q.seal.open(m.Body)
	if err != nil {
		return q.finish(ctx, m, job, store.MessageFailed, err, wipe)
	}
	sender, ok := q.cfg.Senders[m.Channel]
	if !ok {
		return q.finish(ctx, m, job, store.MessageFailed, fmt.Errorf("no %s sender is configured", m.Channel), wipe)
	}
	sendErr := sender.Send(ctx, Envelope{To: m.Destination, Subject: m.Subject, Text: b.Text, HTML: b.HTML})
	if sendErr == nil {
		return q.finish(ctx, m, job, store.MessageSent, nil, wipe)
	}
	permanent := false
	if ps, ok := sender.(PermanentSender); ok {
		permanent = ps.Permanent(sendErr)
	}
	if permanent || job.Attempt >= job.MaxAttempts {
		return q.finish(ctx, m, job, store.MessageFailed, sendErr, wipe)
	}
	if err := q.record(ctx, m, job, store.MessageQueued, sendErr, false); err != nil {
		return err
	}
	return sendErr
}

// finish records the final state of a message; a failure is logged for the
// operator and ends the job without a retry.
func (q *Queue) finish(ctx context.Context, m *store.Message, job *river.Job[deliverArgs], status string, cause error, wipe bool) error {
	if err := q.record(ctx, m, job, status, cause, wipe); err != nil {
		return err
	}
	if status == store.MessageFailed {
		q.log.Error("message delivery failed", "message_id", m.ID, "channel", m.Channel, "kind", m.Kind, "attempts", job.Attempt, "error", errText(cause))
		return river.JobCancel(fmt.Errorf("delivery failed: %s", errText(cause)))
	}
	return nil
}

func (q *Queue) record(ctx context.Context, m *store.Message, job *river.Job[deliverArgs], status string, cause error, wipe bool) error {
	return q.db.Update(ctx, func(tx *store.Tx) error {
		return tx.RecordDelivery(ctx, m.ID, status, job.Attempt, errText(cause), q.cfg.Now().UTC(), wipe)
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
