-- The audit log (tokend's audit.go). Conventions as in 0001.
--
-- No foreign keys: an entry outlives what it names, so deleting a service,
-- client or token keeps the record of what was done to it. Ids only grow
-- (entries are never deleted), and they order the log.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	service_id  INTEGER, -- NULL: the organization's own records
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT,
	target_id   TEXT,
	subject     TEXT,
	reason      TEXT
);
-- A tenant's entries, newest first: the management API's usual question.
CREATE INDEX audit_log_service ON audit_log (service_id, id);
