-- Profile pictures and enterprise logos, re-encoded, stored by content address.
CREATE TABLE images (
	id           TEXT    PRIMARY KEY, -- hex SHA-256 of data
	content_type TEXT    NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
	data         BYTEA    NOT NULL,
	width        INTEGER NOT NULL,
	height       INTEGER NOT NULL,
	created_at   BIGINT  NOT NULL
);
