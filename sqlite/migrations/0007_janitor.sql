-- The janitor (janitor.go) finds tokens dead by expiry through
-- tokens_expires (service_id, expires_at), and those revoked by the time of
-- their revocation through this index. Partial: only revoked tokens are in
-- it, so issuing a token never writes to it.
CREATE INDEX tokens_revoked ON tokens (service_id, revoked_at) WHERE revoked_at IS NOT NULL;
