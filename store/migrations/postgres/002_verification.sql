-- Verification codes, sign-in challenges (second factor) and the message outbox.

CREATE TABLE login_challenges (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash BYTEA    NOT NULL UNIQUE,
	account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	used_at    BIGINT,
	client_ip  TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX login_challenges_account ON login_challenges (account_id);

CREATE TABLE verification_codes (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id    BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	session_id    BIGINT  REFERENCES sessions (id) ON DELETE CASCADE,
	challenge_id  BIGINT  REFERENCES login_challenges (id) ON DELETE CASCADE,
	ticket_id     BIGINT  REFERENCES tickets (id) ON DELETE CASCADE,
	purpose       TEXT    NOT NULL,
	channel       TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
	destination   TEXT    NOT NULL,
	code_hash     BYTEA    NOT NULL,
	client_ip     TEXT    NOT NULL DEFAULT '',
	created_at    BIGINT  NOT NULL,
	expires_at    BIGINT  NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	used_at       BIGINT,
	superseded_at BIGINT
);
CREATE INDEX verification_codes_account ON verification_codes (account_id, created_at);
CREATE INDEX verification_codes_destination ON verification_codes (destination, created_at);
CREATE INDEX verification_codes_client ON verification_codes (client_ip, created_at);

CREATE TABLE messages (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id  BIGINT,
	channel     TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
	destination TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	subject     TEXT    NOT NULL DEFAULT '',
	body        BYTEA    NOT NULL,
	sensitive   BOOLEAN NOT NULL DEFAULT FALSE,
	status      TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	created_at  BIGINT  NOT NULL,
	sent_at     BIGINT
);
CREATE INDEX messages_status ON messages (status, id);
CREATE INDEX messages_account ON messages (account_id, id);

ALTER TABLE accounts ADD COLUMN password_reminded_at BIGINT;
