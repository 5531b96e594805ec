-- The OAuth endpoints: refresh rotation history, authorization codes and the
-- built-in users table. Conventions as in 0001.

-- DEFAULT 0: ALTER TABLE cannot add a NOT NULL column without one, and every
-- existing service keeps S256-only PKCE.
ALTER TABLE services ADD COLUMN password_callback_url TEXT;
ALTER TABLE services ADD COLUMN allow_plain_pkce INTEGER NOT NULL DEFAULT 0;

-- A row per refresh token that rotation replaced, looked up by the hash a
-- client presents. WITHOUT ROWID: the rows are small and only ever found by
-- hash, so the primary key is the table and no second index is kept.
-- No foreign key on token_id: the store deletes these rows with their token
-- explicitly, as it does every other child row.
CREATE TABLE refresh_history (
	hash       BLOB PRIMARY KEY,
	token_id   INTEGER NOT NULL,
	retired_at INTEGER NOT NULL,
	successor  BLOB
) WITHOUT ROWID;
-- DeleteToken and DeleteService remove a token's history by its id.
CREATE INDEX refresh_history_token ON refresh_history (token_id);

CREATE TABLE authorization_codes (
	hash                  BLOB PRIMARY KEY,
	service_id            INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	client_id             INTEGER NOT NULL, -- no FK, as on tokens
	subject               TEXT,
	scopes                TEXT,
	redirect_uri          TEXT,
	code_challenge        TEXT,
	code_challenge_method TEXT,
	account_id            TEXT,
	roles                 TEXT,
	auth_time             INTEGER,
	acr                   TEXT,
	session_id            TEXT,
	resources             TEXT,
	authorization_details TEXT,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL,
	used_at               INTEGER,
	token_id              INTEGER
);
-- For the janitor that will delete expired codes.
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
-- Codes pile up until that janitor runs; DeleteService must not scan them all.
CREATE INDEX authorization_codes_service ON authorization_codes (service_id);

-- AUTOINCREMENT for the same reason as keys and tokens: ids are page cursors.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	service_id    INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	username      TEXT NOT NULL,
	password_hash TEXT,
	account_id    TEXT,
	roles         TEXT,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	UNIQUE (service_id, username)
);
-- ListUsers pages a service's users by id.
CREATE INDEX users_service ON users (service_id, id);
