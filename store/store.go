// Package store keeps Atrium's data in SQLite (modernc.org/sqlite, the embedded
// default) or PostgreSQL (jackc/pgx/v5), through database/sql with one set of
// statements: "$1" placeholders, Unix-microsecond times and RETURNING work in both.
// Statements differ per dialect only in the migrations.
//
// SQLite runs in WAL mode with foreign keys on and a busy timeout; every write goes
// through a pool of one connection that takes the write lock at BEGIN, so writers
// queue instead of failing, while reads use a separate pool.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/atrium-console/atrium"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is an open Atrium database.
type DB struct {
	Dialect string
	write   *sql.DB // every write transaction; one connection on SQLite
	read    *sql.DB // reads outside transactions; == write on PostgreSQL

	sessionByHash *sql.Stmt
	accountByID   *sql.Stmt
	touchSession  *sql.Stmt
}

// Open opens the database at dsn: a postgres:// (or postgresql://) URL for
// PostgreSQL, otherwise a SQLite file path ("" means atrium.db inside dataDir). It
// does not migrate; call Migrate.
func Open(ctx context.Context, dsn, dataDir string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if path == "" {
		if dataDir == "" {
			dataDir = "."
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path = filepath.Join(dataDir, "atrium.db")
	}
	return openSQLite(ctx, path)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	params := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		params.Add("_pragma", p)
	}
	read, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		return nil, err
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	read.SetConnMaxIdleTime(0)
	read.SetMaxIdleConns(max(4, runtime.NumCPU()))
	params.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		read.Close()
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	db := &DB{Dialect: SQLite, read: read, write: write}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
	pool.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
	pool.SetConnMaxLifetime(30 * time.Minute)
	db := &DB{Dialect: Postgres, read: pool, write: pool}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	for _, s := range []*sql.Stmt{db.sessionByHash, db.accountByID, db.touchSession} {
		if s != nil {
			s.Close()
		}
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Migrate applies the embedded migrations of the dialect that are not applied yet,
// each in its own transaction, and prepares the hot-path statements. Several nodes
// may call it at once: PostgreSQL serialises them with an advisory lock, SQLite
// with its write lock.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.migrate(ctx); err != nil {
		return err
	}
	return db.prepare(ctx)
}

func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + db.Dialect
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)

	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7263849)`); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7263849)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return err
		}
		if err := applyMigration(ctx, conn, version, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, version int, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, us(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// MigrationVersion returns the newest applied migration.
func (db *DB) MigrationVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

func (db *DB) prepare(ctx context.Context) error {
	var err error
	if db.sessionByHash, err = db.read.PrepareContext(ctx, sessionSelect+` WHERE token_hash = $1`); err != nil {
		return err
	}
	if db.accountByID, err = db.read.PrepareContext(ctx, accountSelect+` WHERE a.id = $1`); err != nil {
		return err
	}
	if db.touchSession, err = db.write.PrepareContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`); err != nil {
		return err
	}
	return nil
}

// Tx is a unit of work. Every use case runs in one Tx; methods on Tx are the
// statements of the store.
type Tx struct {
	q  querier
	db *DB
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Update runs fn in a write transaction and commits if fn returns nil.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	if err := fn(&Tx{q: tx, db: db}); err != nil {
		return err
	}
	return wrap(tx.Commit())
}

// View runs fn with reads outside a transaction (each statement sees its own
// snapshot), on the read pool.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	return fn(&Tx{q: db.read, db: db})
}

// Dialect returns the dialect the transaction runs on.
func (tx *Tx) Dialect() string { return tx.db.Dialect }

func us(t time.Time) int64 { return t.UnixMicro() }

func fromUS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullUS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullUS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromUS(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// uniqueViolation reports whether err is a unique-constraint violation, and on
// which column ("table.column" on SQLite, the constraint name on PostgreSQL, so
// callers match on the column name they know).
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && (sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return sqErr.Error(), true
	}
	return "", false
}

// foreignKeyViolation reports whether err is a foreign-key violation.
func foreignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return true
	}
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// wrap turns driver errors that a caller can act on into domain errors and leaves
// the rest (bugs, outages) as they are.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *atrium.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	if _, ok := uniqueViolation(err); ok {
		return atrium.Errorf(atrium.EConflict, "It already exists.")
	}
	if foreignKeyViolation(err) {
		return atrium.Errorf(atrium.ENotFound, "A referenced record does not exist.")
	}
	return err
}

// Exec runs one statement outside the store's methods; tests use it to check
// what the database itself refuses.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.write.ExecContext(ctx, query, args...)
	return err
}
