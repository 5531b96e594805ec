-- The audit log (tokend's audit.go). Conventions as in 0001.
--
-- No foreign keys: an entry outlives what it names, so deleting a service,
-- client or token keeps the record of what was done to it. Entries are
-- never deleted; ids order the log.
CREATE TABLE audit_log (
	id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT audit_log_pkey PRIMARY KEY,
	at          timestamptz NOT NULL,
	service_id  bigint, -- NULL: the organization's own records
	actor       text NOT NULL,
	action      text NOT NULL,
	target_type text NOT NULL DEFAULT '',
	target_id   text NOT NULL DEFAULT '',
	subject     text NOT NULL DEFAULT '',
	reason      text NOT NULL DEFAULT ''
);
-- A tenant's entries, newest first: the management API's usual question.
CREATE INDEX audit_log_service ON audit_log (service_id, id);
