-- What the Passport and Kustvakt dialects need. Conventions as in 0001.

-- The IANA zone Kustvakt's dates are shown in; NULL: UTC.
ALTER TABLE services ADD COLUMN time_zone TEXT;

-- Passport's token request and Kustvakt's super client name a client by its
-- client_id alone, without a service: ClientsByClientID finds it in every
-- service. clients_client_id leads with service_id, so it cannot serve that.
CREATE INDEX clients_by_client_id ON clients (client_id);
