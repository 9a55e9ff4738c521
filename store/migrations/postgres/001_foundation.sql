-- Times are Unix microseconds (UTC) in both dialects, so every statement is shared.

CREATE TABLE msps (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT    NOT NULL,
	industry      TEXT    NOT NULL DEFAULT '',
	address       TEXT    NOT NULL DEFAULT '',
	phone         TEXT    NOT NULL DEFAULT '',
	authenticated BOOLEAN NOT NULL DEFAULT FALSE,
	logo_id       TEXT    NOT NULL DEFAULT '',
	created_at    BIGINT  NOT NULL
);

CREATE TABLE tenants (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
	id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind                 TEXT    NOT NULL CHECK (kind IN ('msp', 'tenant')),
	role                 TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
	msp_id               BIGINT  REFERENCES msps (id) ON DELETE CASCADE,
	tenant_id            BIGINT  REFERENCES tenants (id) ON DELETE CASCADE,
	username             TEXT    NOT NULL,
	username_key         TEXT    NOT NULL UNIQUE,
	email                TEXT,
	email_key            TEXT UNIQUE,
	phone                TEXT UNIQUE,
	language             TEXT    NOT NULL DEFAULT '',
	password_hash        TEXT    NOT NULL,
	password_changed_at  BIGINT  NOT NULL,
	password_must_change BOOLEAN NOT NULL DEFAULT FALSE,
	agreements_pending   BOOLEAN NOT NULL DEFAULT TRUE,
	two_factor_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
	failed_logins        INTEGER NOT NULL DEFAULT 0,
	locked_until         BIGINT,
	avatar_id            TEXT    NOT NULL DEFAULT '',
	last_login_at        BIGINT,
	created_at           BIGINT  NOT NULL,
	CHECK ((kind = 'msp' AND msp_id IS NOT NULL AND tenant_id IS NULL) OR
	       (kind = 'tenant' AND tenant_id IS NOT NULL AND msp_id IS NULL))
);
CREATE INDEX accounts_msp ON accounts (msp_id);
CREATE INDEX accounts_tenant ON accounts (tenant_id);
CREATE UNIQUE INDEX accounts_one_msp_owner ON accounts (msp_id) WHERE role = 'owner' AND kind = 'msp';
CREATE UNIQUE INDEX accounts_one_tenant_owner ON accounts (tenant_id) WHERE role = 'owner' AND kind = 'tenant';

CREATE TABLE password_history (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash        TEXT   NOT NULL,
	retired_at  BIGINT NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, id);

CREATE TABLE agencies (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	msp_id     BIGINT NOT NULL REFERENCES msps (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	UNIQUE (tenant_id, msp_id)
);
CREATE INDEX agencies_msp ON agencies (msp_id);

CREATE TABLE agreements (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type         TEXT    NOT NULL CHECK (type IN ('privacy_statement', 'customer_agreement', 'deletion_terms')),
	version      INTEGER NOT NULL CHECK (version > 0),
	title        TEXT    NOT NULL,
	body         TEXT    NOT NULL,
	sample       BOOLEAN NOT NULL DEFAULT FALSE,
	published_at BIGINT  NOT NULL,
	UNIQUE (type, version)
);

CREATE TABLE signings (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	type       TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	scenario   TEXT    NOT NULL CHECK (scenario IN ('first_login', 'agreement_update', 'registration', 'account_deletion')),
	signed_at  BIGINT  NOT NULL,
	client_ip  TEXT    NOT NULL DEFAULT '',
	FOREIGN KEY (type, version) REFERENCES agreements (type, version)
);
CREATE INDEX signings_account ON signings (account_id, id);
CREATE FUNCTION atrium_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER signings_append_only BEFORE UPDATE ON signings
FOR EACH ROW EXECUTE FUNCTION atrium_append_only();

CREATE TABLE sessions (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash   BYTEA    NOT NULL UNIQUE,
	account_id   BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at   BIGINT  NOT NULL,
	last_seen_at BIGINT  NOT NULL,
	expires_at   BIGINT  NOT NULL,
	client_ip    TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE tickets (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash BYTEA    NOT NULL UNIQUE,
	account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	session_id BIGINT  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	purpose    TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	used_at    BIGINT
);
CREATE INDEX tickets_session ON tickets (session_id);

CREATE TABLE operator_tokens (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash BYTEA   NOT NULL UNIQUE,
	name       TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE events (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         BIGINT NOT NULL,
	account_id BIGINT,
	msp_id     BIGINT,
	actor      TEXT   NOT NULL,
	action     TEXT   NOT NULL,
	outcome    TEXT   NOT NULL,
	client_ip  TEXT   NOT NULL DEFAULT '',
	detail     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX events_account ON events (account_id, id);
CREATE INDEX events_msp ON events (msp_id, id);
CREATE INDEX events_action ON events (action, id);
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION atrium_append_only();
