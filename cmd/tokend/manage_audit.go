package main

import (
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func init() {
	manageCommands["audit"] = map[string]subcommand{
		"list":   {"[--service SID] [--actor A] [--action A] [--target-type T] [--target-id ID] [--subject S] [--since T] [--until T] [--order asc|desc] [--page-size N] [--page-token T] [--all]", auditList},
		"export": {"[--service SID] [--actor A] [--action A] [--target-type T] [--target-id ID] [--subject S] [--since T] [--until T]", auditExport},
	}
}

// exportTimeout bounds an export, which streams the whole log in one
// response and so cannot live within requestTimeout.
const exportTimeout = time.Hour

// auditFlags adds the audit log's filters.
func auditFlags(fs *flag.FlagSet, q *client.AuditQuery) (since, until *timeFlag) {
	fs.Int64Var(&q.Service, "service", 0, "only this service's entries (`SID`; 0: the organization's whole log, an organization key)")
	fs.StringVar(&q.Actor, "actor", "", "only entries of this actor (key:ID, client:ID, user:SUBJECT, address:IP, system)")
	fs.StringVar(&q.Action, "action", "", "only entries of this action, e.g. token.revoke")
	fs.StringVar(&q.TargetType, "target-type", "", "only entries about this kind of target (token, client, key, service, grant, subject, user, import)")
	fs.StringVar(&q.TargetID, "target-id", "", "only entries about this target id")
	fs.StringVar(&q.Subject, "subject", "", "only entries concerning this end user")
	return timeVar(fs, "since", "only entries at or after this time"), timeVar(fs, "until", "only entries before this time")
}

func auditList(m *manager, args []string) error {
	fs := m.flags()
	var q client.AuditQuery
	since, until := auditFlags(fs, &q)
	fs.StringVar(&q.Order, "order", "", "desc (default: newest first) or asc")
	fs.IntVar(&q.PageSize, "page-size", 0, "entries per page (0: the server's default)")
	fs.StringVar(&q.PageToken, "page-token", "", "continue from this page `token`")
	all := fs.Bool("all", false, "fetch every page")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	q.Since, q.Until = since.t, until.t
	c := m.client()
	var list *wire.AuditList
	if *all {
		entries, err := collectAll(c.AllAudit(m.ctx, q))
		if err != nil {
			return err
		}
		list = &wire.AuditList{Entries: entries}
	} else {
		var err error
		if list, err = c.ListAudit(m.ctx, q); err != nil {
			return err
		}
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Entries))
	for _, e := range list.Entries {
		sid := "-"
		if e.ServiceID != nil {
			sid = fmtInt(*e.ServiceID)
		}
		target := "-"
		if e.TargetType != "" {
			target = e.TargetType + ":" + e.TargetID
		}
		rows = append(rows, []string{fmtInt(e.ID), e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), sid, e.Actor, e.Action, target, orDash(e.Subject), orDash(e.Reason)})
	}
	if err := m.table([]string{"ID", "TIME", "SERVICE", "ACTOR", "ACTION", "TARGET", "SUBJECT", "REASON"}, rows); err != nil {
		return err
	}
	m.nextPage(list.NextPageToken)
	return nil
}

// auditExport writes the log as JSON lines on stdout, oldest first:
// "tokend audit export > audit.jsonl".
func auditExport(m *manager, args []string) error {
	fs := m.flags()
	var q client.AuditQuery
	since, until := auditFlags(fs, &q)
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	q.Since, q.Until = since.t, until.t
	c := client.New(m.url, m.key, client.WithHTTPClient(&http.Client{Timeout: exportTimeout}))
	n, err := c.ExportAudit(m.ctx, q, m.stdout)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(m.stderr, "tokend: no audit entries match")
	}
	return nil
}
