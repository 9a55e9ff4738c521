-- The authenticator app (TOTP) as a stronger second factor, with recovery codes.
ALTER TABLE accounts ADD COLUMN totp_secret BYTEA;
ALTER TABLE accounts ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE login_challenges ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	code_hash  BYTEA   NOT NULL,
	used_at    BIGINT
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);
