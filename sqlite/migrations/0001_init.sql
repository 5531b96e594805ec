-- Conventions: times are unix milliseconds, NULL when unset; durations are
-- nanoseconds (time.Duration) so they round-trip exactly; empty strings are
-- NULL; lists whose values cannot hold a space (scopes, roles, grant types,
-- permissions) are space-joined, lists of URIs are JSON arrays.

CREATE TABLE services (
	id                    INTEGER PRIMARY KEY,
	name                  TEXT,
	description           TEXT,
	issuer                TEXT,
	access_token_ttl      INTEGER NOT NULL,
	refresh_token_ttl     INTEGER NOT NULL,
	scopes_supported      TEXT,
	grant_types_supported TEXT,
	rotate_refresh        INTEGER NOT NULL,
	refresh_reuse_grace   INTEGER NOT NULL,
	keep_refresh_expiry   INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);

CREATE TABLE clients (
	id            INTEGER PRIMARY KEY,
	service_id    INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	client_id     TEXT NOT NULL,
	name          TEXT,
	description   TEXT,
	url           TEXT,
	developer     TEXT,
	type          TEXT,
	grant_types   TEXT,
	scopes        TEXT,
	redirect_uris TEXT,
	first_party   INTEGER NOT NULL,
	secret_hash   BLOB,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX clients_client_id ON clients (service_id, client_id);
-- ListClients pages a service's clients by id.
CREATE INDEX clients_service ON clients (service_id, id);

-- AUTOINCREMENT so that an id is never handed out twice, even after the
-- newest row is deleted: ids appear in audit logs and page cursors.
CREATE TABLE keys (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	service_id  INTEGER REFERENCES services (id) ON DELETE CASCADE, -- NULL: organization key
	name        TEXT,
	permissions TEXT,
	hash        BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER
);
CREATE UNIQUE INDEX keys_hash ON keys (hash);
CREATE INDEX keys_service ON keys (service_id);

-- One row per token record; kept compact because there are tens of millions.
-- Columns read on every lookup come first, rarely set ones last so that
-- their NULLs cost one header byte each.
CREATE TABLE tokens (
	id                    INTEGER PRIMARY KEY AUTOINCREMENT,
	service_id            INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	client_id             INTEGER NOT NULL, -- no FK: tokens outlive their client (revoked)
	grant_type            INTEGER NOT NULL, -- a code, see grantCodes in tokens.go
	created_at            INTEGER NOT NULL,
	-- Token.OrderValue(expires_at): the later of the two expiries,
	-- 9223372036854775807 for a persistent token. Serves status filters and
	-- expiry ordering from an index.
	expires_at            INTEGER NOT NULL,
	access_hash           BLOB NOT NULL,
	refresh_hash          BLOB,
	subject               TEXT,
	scopes                TEXT,
	access_expires_at     INTEGER,
	refresh_expires_at    INTEGER,
	persistent            INTEGER NOT NULL,
	grant_id              INTEGER, -- NULL: the token's own id (it started its family)
	last_refreshed_at     INTEGER,
	revoked_at            INTEGER,
	revoked_reason        TEXT,
	refresh_scopes        TEXT,    -- NULL: same as scopes; '': none
	account_id            TEXT,
	roles                 TEXT,
	auth_time             INTEGER,
	acr                   TEXT,
	session_id            TEXT,
	resources             TEXT,
	cert_thumbprint       TEXT,
	dpop_thumbprint       TEXT,
	properties            TEXT,
	authorization_details TEXT
);
CREATE UNIQUE INDEX tokens_access_hash ON tokens (access_hash);
CREATE UNIQUE INDEX tokens_refresh_hash ON tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
CREATE INDEX tokens_subject ON tokens (service_id, subject, created_at);
CREATE INDEX tokens_client ON tokens (service_id, client_id, created_at);
CREATE INDEX tokens_created ON tokens (service_id, created_at);
-- Every list is scoped to a service, so the service leads here too.
CREATE INDEX tokens_expires ON tokens (service_id, expires_at);
-- Only rotated families carry a grant_id, so this index stays small.
CREATE INDEX tokens_grant ON tokens (grant_id) WHERE grant_id IS NOT NULL;
