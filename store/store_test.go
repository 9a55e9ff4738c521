package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/store"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func mustMSP(t *testing.T, db *store.DB, username string) (*atrium.MSP, *atrium.Account) {
	t.Helper()
	ctx := context.Background()
	m := &atrium.MSP{Name: "MSP " + username, CreatedAt: t0}
	a := &atrium.Account{Kind: atrium.KindMSP, Role: atrium.RoleOwner, Username: username, PasswordHash: "h0", PasswordChangedAt: t0, CreatedAt: t0}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertMSP(ctx, m); err != nil {
			return err
		}
		a.MSPID = m.ID
		return tx.InsertAccount(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, a
}

func TestStore(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("migrating twice changes nothing", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			v, err := db.MigrationVersion(context.Background())
			if err != nil || v < 1 {
				t.Fatalf("version %d, %v", v, err)
			}
		})
		t.Run("an account that does not exist is not found", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			_, err := db.AccountByID(context.Background(), 999)
			if code := atrium.ErrorCode(err); code != atrium.ENotFound {
				t.Fatalf("code %q, want not_found", code)
			}
		})
		t.Run("usernames are unique without regard to case and look-alikes", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			mustMSP(t, db, "Admin")
			ctx := context.Background()
			for _, name := range []string{"admin", "ADMIN", "аdmin" /* Cyrillic а */, "ＡＤＭＩＮ"} {
				err := db.Update(ctx, func(tx *store.Tx) error {
					m := &atrium.MSP{Name: "x", CreatedAt: t0}
					if err := tx.InsertMSP(ctx, m); err != nil {
						return err
					}
					return tx.InsertAccount(ctx, &atrium.Account{Kind: atrium.KindMSP, Role: atrium.RoleOwner, MSPID: m.ID, Username: name, PasswordHash: "h", PasswordChangedAt: t0, CreatedAt: t0})
				})
				if code := atrium.ErrorCode(err); code != atrium.EUsernameTaken {
					t.Errorf("%q: code %q, want username_taken", name, code)
				}
			}
		})
		t.Run("an email or phone linked to another account is refused", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			ctx := context.Background()
			_, a := mustMSP(t, db, "first")
			err := db.Update(ctx, func(tx *store.Tx) error {
				_, err := tx.AccountByID(ctx, a.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			insert := func(username, email, phone string) error {
				return db.Update(ctx, func(tx *store.Tx) error {
					return tx.InsertAccount(ctx, &atrium.Account{Kind: atrium.KindMSP, Role: atrium.RoleMember, MSPID: a.MSPID, Username: username, Email: email, Phone: phone, PasswordHash: "h", PasswordChangedAt: t0, CreatedAt: t0})
				})
			}
			if err := insert("second", "Ops@Example.com", "+8613800138000"); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ name, email, phone, field string }{
				{"third", "ops@example.COM", "", "email"},
				{"fourth", "", "+8613800138000", "phone"},
			} {
				err := insert(c.name, c.email, c.phone)
				if atrium.ErrorCode(err) != atrium.EConflict || atrium.ErrorDetails(err)["field"] != c.field {
					t.Errorf("%s: %v, want conflict on %s", c.name, err, c.field)
				}
			}
		})
		t.Run("fifty concurrent claims of one username succeed once", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			m, _ := mustMSP(t, db, "owner")
			ctx := context.Background()
			var ok atomic.Int32
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := "claimed"
					if i%2 == 1 {
						name = "CLAIMED"
					}
					err := db.Update(ctx, func(tx *store.Tx) error {
						return tx.InsertAccount(ctx, &atrium.Account{Kind: atrium.KindMSP, Role: atrium.RoleMember, MSPID: m.ID, Username: name, PasswordHash: "h", PasswordChangedAt: t0, CreatedAt: t0})
					})
					if err == nil {
						ok.Add(1)
					} else if atrium.ErrorCode(err) != atrium.EUsernameTaken {
						t.Errorf("unexpected error %v", err)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("%d claims succeeded, want 1", ok.Load())
			}
		})
		t.Run("concurrent failed sign-ins are all counted and lock at the threshold", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			_, a := mustMSP(t, db, "victim")
			ctx := context.Background()
			var locks atomic.Int32
			var wg sync.WaitGroup
			for range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := db.Update(ctx, func(tx *store.Tx) error {
						until, err := tx.RecordLoginFailure(ctx, a.ID, 5, t0.Add(10*time.Minute))
						if until != nil {
							locks.Add(1)
						}
						return err
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			got, err := db.AccountByID(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if locks.Load() != 1 || got.LockedUntil == nil || !got.LockedUntil.Equal(t0.Add(10*time.Minute)) || got.FailedLogins != 0 {
				t.Fatalf("locks=%d locked_until=%v failed=%d", locks.Load(), got.LockedUntil, got.FailedLogins)
			}
		})
		t.Run("a ticket is used once even under concurrent use", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			_, a := mustMSP(t, db, "ticketed")
			ctx := context.Background()
			s := &atrium.Session{AccountID: a.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
			hash := []byte("0123456789abcdef0123456789abcdef")
			err := db.Update(ctx, func(tx *store.Tx) error {
				if err := tx.InsertSession(ctx, s, []byte("session-hash-0123456789abcdef012")); err != nil {
					return err
				}
				return tx.InsertTicket(ctx, &atrium.Ticket{AccountID: a.ID, SessionID: s.ID, Purpose: atrium.PurposePassword, Method: atrium.MethodPassword, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}, hash)
			})
			if err != nil {
				t.Fatal(err)
			}
			use := func(purpose string, sessionID int64, at time.Time) error {
				return db.Update(ctx, func(tx *store.Tx) error {
					_, err := tx.UseTicket(ctx, hash, a.ID, sessionID, purpose, at)
					return err
				})
			}
			for _, c := range []struct {
				name    string
				purpose string
				session int64
				at      time.Time
			}{
				{"another purpose", atrium.PurposeUsername, s.ID, t0},
				{"another session", atrium.PurposePassword, s.ID + 1, t0},
				{"after expiry", atrium.PurposePassword, s.ID, t0.Add(5 * time.Minute)},
			} {
				if code := atrium.ErrorCode(use(c.purpose, c.session, c.at)); code != atrium.ETicketInvalid {
					t.Errorf("%s: code %q, want ticket_invalid", c.name, code)
				}
			}
			var ok atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if use(atrium.PurposePassword, s.ID, t0.Add(time.Minute)) == nil {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("%d uses succeeded, want 1", ok.Load())
			}
		})
		t.Run("audit events and signings are append-only", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			_, a := mustMSP(t, db, "audited")
			ctx := context.Background()
			err := db.Update(ctx, func(tx *store.Tx) error {
				if err := tx.InsertEvent(ctx, &atrium.Event{At: t0, AccountID: a.ID, Actor: "account", Action: "login", Outcome: "success", Detail: "a\r\nforged line"}); err != nil {
					return err
				}
				if err := tx.InsertAgreement(ctx, &atrium.Agreement{Type: atrium.AgreementPrivacy, Version: 1, Title: "P", Body: "B", PublishedAt: t0}); err != nil {
					return err
				}
				return tx.InsertSigning(ctx, &atrium.Signing{AccountID: a.ID, Type: atrium.AgreementPrivacy, Version: 1, Scenario: atrium.ScenarioFirstLogin, SignedAt: t0})
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{
				`UPDATE events SET outcome = 'failure'`,
				`DELETE FROM events`,
				`UPDATE signings SET version = 2`,
			} {
				if err := db.Exec(ctx, stmt); err == nil {
					t.Errorf("%s: succeeded, want refused", stmt)
				}
			}
			var evs []*atrium.Event
			db.View(ctx, func(tx *store.Tx) error {
				var err error
				evs, err = tx.Events(ctx, atrium.EventFilter{AccountID: a.ID})
				return err
			})
			if len(evs) != 1 || evs[0].Detail != "a\r\nforged line" || evs[0].Outcome != "success" {
				t.Fatalf("events changed: %+v", evs)
			}
		})
		t.Run("the password history keeps the newest entries", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			_, a := mustMSP(t, db, "rotating")
			ctx := context.Background()
			for i := 1; i <= 5; i++ {
				err := db.Update(ctx, func(tx *store.Tx) error {
					return tx.SetPassword(ctx, a.ID, fmt.Sprintf("h%d", i-1), fmt.Sprintf("h%d", i), t0.Add(time.Duration(i)*time.Hour), false, 2)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var hist []string
			db.View(ctx, func(tx *store.Tx) error {
				var err error
				hist, err = tx.PasswordHistory(ctx, a.ID, 10)
				return err
			})
			if fmt.Sprint(hist) != "[h4 h3]" {
				t.Fatalf("history %v, want [h4 h3]", hist)
			}
		})
		t.Run("the current agreement is the newest version of each type", func(t *testing.T) {
			db := atriumtest.MustOpenDB(t, dialect)
			ctx := context.Background()
			publish := func(ags ...*atrium.Agreement) error {
				return db.Update(ctx, func(tx *store.Tx) error {
					for _, ag := range ags {
						if err := tx.InsertAgreement(ctx, ag); err != nil {
							return err
						}
					}
					return nil
				})
			}
			err := publish(&atrium.Agreement{Type: atrium.AgreementCustomer, Version: 1, Title: "C1", Body: "b", PublishedAt: t0},
				&atrium.Agreement{Type: atrium.AgreementPrivacy, Version: 1, Title: "P1", Body: "b", PublishedAt: t0},
				&atrium.Agreement{Type: atrium.AgreementPrivacy, Version: 2, Title: "P2", Body: "b", PublishedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			err = publish(&atrium.Agreement{Type: atrium.AgreementDeletion, Version: 1, Title: "D1", Body: "b", PublishedAt: t0},
				&atrium.Agreement{Type: atrium.AgreementPrivacy, Version: 2, Title: "dup", Body: "b", PublishedAt: t0})
			if atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("duplicate version: %v, want conflict", err)
			}
			var cur []*atrium.Agreement
			db.View(ctx, func(tx *store.Tx) error {
				var err error
				cur, err = tx.CurrentAgreements(ctx)
				return err
			})
			// The failed transaction published nothing, not even the deletion terms.
			var got []string
			for _, a := range cur {
				got = append(got, a.Title)
			}
			if fmt.Sprint(got) != "[P2 C1]" {
				t.Fatalf("current %v, want [P2 C1]", got)
			}
		})
	})
}
