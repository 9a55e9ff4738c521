-- What blocks deleting an MSP: resources, orders, contracts and fees registered by
-- integrating services through the operator API.
CREATE TABLE holdings (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	msp_id      BIGINT NOT NULL REFERENCES msps (id) ON DELETE CASCADE,
	account_id  BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
	kind        TEXT   NOT NULL CHECK (kind IN ('resource', 'order', 'contract', 'fee')),
	ref         TEXT   NOT NULL,
	description TEXT   NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX holdings_msp ON holdings (msp_id);
CREATE INDEX messages_created ON messages (created_at);
