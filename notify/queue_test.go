package notify_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

type fakeSender struct {
	mu        sync.Mutex
	sent      []notify.Envelope
	fail      int // fail this many times first
	permanent bool
}

func (f *fakeSender) Send(ctx context.Context, e notify.Envelope) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("provider unavailable")
	}
	f.sent = append(f.sent, e)
	return nil
}

func (f *fakeSender) Permanent(err error) bool { return f.permanent }

var secret = []byte("0123456789abcdef0123456789abcdef")

func newQueue(t *testing.T, dialect string, sender notify.Sender, mutate func(*notify.Config)) (*notify.Queue, *store.DB, *atriumtest.SyncBuffer) {
	t.Helper()
	db := atriumtest.MustOpenDB(t, dialect)
	logs := &atriumtest.SyncBuffer{}
	cfg := notify.Config{Secret: secret, Senders: map[string]notify.Sender{"email": sender, "sms": sender}, MaxAttempts: 3,
		RetryDelay: func(int) time.Duration { return 0 }, PollEvery: 50 * time.Millisecond, Log: atriumtest.Logger(logs)}
	if mutate != nil {
		mutate(&cfg)
	}
	q, err := notify.New(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q, db, logs
}

func enqueue(t *testing.T, q *notify.Queue, db *store.DB, m notify.Message) {
	t.Helper()
	ctx := context.Background()
	if err := db.Update(ctx, func(tx *store.Tx) error { return q.Enqueue(ctx, tx, m) }); err != nil {
		t.Fatal(err)
	}
}

// run starts the workers and waits until n jobs have finished.
func run(t *testing.T, q *notify.Queue, n int) {
	t.Helper()
	events, cancel := q.Subscribe()
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(context.Background())
	for done := 0; done < n; {
		select {
		case ev := <-events:
			switch ev.Job.State {
			case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
				done++
			}
		case <-ctx.Done():
			t.Fatalf("only %d of %d deliveries finished", done, n)
		}
	}
}

func TestQueue(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		code := map[string]string{"Code": "482913", "Minutes": "5", "Purpose": "password"}
		t.Run("delivers a message written in a transaction, in the account's language", func(t *testing.T) {
			s := &fakeSender{}
			q, db, _ := newQueue(t, dialect, s, nil)
			enqueue(t, q, db, notify.Message{Channel: "email", To: "a@example.com", Kind: notify.KindCode, Lang: "zh-CN", Data: code, Sensitive: true})
			run(t, q, 1)
			if len(s.sent) != 1 || s.sent[0].To != "a@example.com" || !strings.Contains(s.sent[0].Text, "482913") || !strings.Contains(s.sent[0].Subject, "验证码") || !strings.Contains(s.sent[0].HTML, "482913") {
				t.Fatalf("sent %+v", s.sent)
			}
			out, _ := q.Outbox(context.Background(), store.MessageFilter{})
			if out[0].Status != "sent" || out[0].Body != "" {
				t.Fatalf("a sensitive message keeps its body after delivery outside development: %+v", out[0])
			}
		})
		t.Run("a rolled-back change sends nothing", func(t *testing.T) {
			s := &fakeSender{}
			q, db, _ := newQueue(t, dialect, s, nil)
			ctx := context.Background()
			err := db.Update(ctx, func(tx *store.Tx) error {
				if err := q.Enqueue(ctx, tx, notify.Message{Channel: "sms", To: "+8613800138000", Kind: notify.KindCode, Lang: "en", Data: code}); err != nil {
					return err
				}
				return errors.New("the change failed")
			})
			if err == nil {
				t.Fatal("no error")
			}
			if out, _ := q.Outbox(ctx, store.MessageFilter{}); len(out) != 0 {
				t.Fatalf("outbox %+v", out)
			}
		})
		t.Run("no code is stored in plain text", func(t *testing.T) {
			q, db, _ := newQueue(t, dialect, &fakeSender{}, nil)
			enqueue(t, q, db, notify.Message{Channel: "email", To: "a@example.com", Kind: notify.KindCode, Lang: "en", Data: code, Sensitive: true})
			var list []*store.Message
			db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				list, err = tx.Messages(context.Background(), store.MessageFilter{})
				return err
			})
			if len(list) != 1 || bytes.Contains(list[0].Body, []byte("482913")) || strings.Contains(list[0].Subject, "482913") {
				t.Fatalf("stored %q", list[0].Body)
			}
		})
		t.Run("a failed delivery is retried, then marked failed and logged", func(t *testing.T) {
			s := &fakeSender{fail: 100}
			q, db, logs := newQueue(t, dialect, s, nil)
			enqueue(t, q, db, notify.Message{Channel: "sms", To: "+8613800138000", Kind: notify.KindTwoFactorOn, Lang: "en", Data: map[string]string{"Username": "alice"}})
			run(t, q, 1)
			out, _ := q.Outbox(context.Background(), store.MessageFilter{Status: "failed"})
			if len(out) != 1 {
				t.Fatalf("failed messages: %+v", out)
			}
			var m *store.Message
			db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				m, err = tx.MessageByID(context.Background(), out[0].ID)
				return err
			})
			if m.Attempts != 3 || !strings.Contains(m.LastError, "provider unavailable") {
				t.Fatalf("message %+v", m)
			}
			if !strings.Contains(logs.String(), "message delivery failed") {
				t.Fatal("the failure was not logged")
			}
		})
		t.Run("a delivery that fails once is retried and sent", func(t *testing.T) {
			s := &fakeSender{fail: 1}
			q, db, _ := newQueue(t, dialect, s, nil)
			enqueue(t, q, db, notify.Message{Channel: "email", To: "a@example.com", Kind: notify.KindTwoFactorOff, Lang: "en", Data: map[string]string{"Username": "alice"}})
			run(t, q, 1)
			if len(s.sent) != 1 {
				t.Fatalf("sent %d", len(s.sent))
			}
		})
		t.Run("a permanent failure is not retried", func(t *testing.T) {
			s := &fakeSender{fail: 100, permanent: true}
			q, db, _ := newQueue(t, dialect, s, nil)
			enqueue(t, q, db, notify.Message{Channel: "email", To: "bad@example.com", Kind: notify.KindTwoFactorOff, Lang: "en", Data: map[string]string{"Username": "alice"}})
			run(t, q, 1)
			out, _ := q.Outbox(context.Background(), store.MessageFilter{Status: "failed"})
			if len(out) != 1 || s.fail != 99 {
				t.Fatalf("failed %d, attempts %d", len(out), 100-s.fail)
			}
		})
	})
}
