package wire

import "time"

// AuditEntry is one record of the audit log (GET /v1/audit). It never
// holds a secret: targets are ids, names or hashes.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	ServiceID  *int64    `json:"service_id"` // null: the organization's own records
	Actor      string    `json:"actor"`      // key:ID, client:ID, user:SUBJECT, address:IP or system
	Action     string    `json:"action"`
	TargetType string    `json:"target_type,omitempty"`
	TargetID   string    `json:"target_id,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

// AuditList is a page of the audit log.
type AuditList struct {
	Entries       []AuditEntry `json:"entries"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}
