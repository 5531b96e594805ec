package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend"
)

// Store wraps s so that every operation's duration is observed in
// tokend_store_operation_duration_seconds, labelled with the method's name.
// The core gets the wrapper; the server keeps s for what only it calls
// (closing, exports). Methods added to tokend.Store later pass through
// untimed until they are listed here.
func (m *Metrics) Store(s tokend.Store) tokend.Store {
	if m == nil {
		return s
	}
	t := &timedStore{Store: s}
	for i, name := range storeOps {
		t.ops[i] = m.storeTime.WithLabelValues(name)
	}
	return t
}

type timedStore struct {
	tokend.Store
	ops [len(storeOps)]prometheus.Observer
}

func (ts *timedStore) since(op int, start time.Time) {
	ts.ops[op].Observe(time.Since(start).Seconds())
}

const (
	opReady = iota
	opCreateService
	opGetService
	opListServices
	opUpdateService
	opDeleteService
	opCreateClient
	opGetClient
	opGetClientByClientID
	opClientsByClientID
	opListClients
	opUpdateClient
	opDeleteClient
	opCreateKey
	opGetKeyByHash
	opListKeys
	opDeleteKey
	opCountKeys
	opCreateToken
	opImportTokens
	opGetToken
	opGetTokenByAccessHash
	opGetTokenByRefreshHash
	opListTokens
	opUpdateToken
	opDeleteToken
	opRevokeTokens
	opListSubjectGrants
	opRotateRefreshToken
	opGetRetiredRefresh
	opCreateAuthorizationCode
	opRedeemAuthorizationCode
	opCreateUser
	opGetUser
	opListUsers
	opUpdateUser
	opDeleteUser
	opSweepTokens
	opSweepAuthorizationCodes
	opLockJanitor
	opAppendAudit
	opListAudit
)

var storeOps = [...]string{
	opReady:                   "Ready",
	opCreateService:           "CreateService",
	opGetService:              "GetService",
	opListServices:            "ListServices",
	opUpdateService:           "UpdateService",
	opDeleteService:           "DeleteService",
	opCreateClient:            "CreateClient",
	opGetClient:               "GetClient",
	opGetClientByClientID:     "GetClientByClientID",
	opClientsByClientID:       "ClientsByClientID",
	opListClients:             "ListClients",
	opUpdateClient:            "UpdateClient",
	opDeleteClient:            "DeleteClient",
	opCreateKey:               "CreateKey",
	opGetKeyByHash:            "GetKeyByHash",
	opListKeys:                "ListKeys",
	opDeleteKey:               "DeleteKey",
	opCountKeys:               "CountKeys",
	opCreateToken:             "CreateToken",
	opImportTokens:            "ImportTokens",
	opGetToken:                "GetToken",
	opGetTokenByAccessHash:    "GetTokenByAccessHash",
	opGetTokenByRefreshHash:   "GetTokenByRefreshHash",
	opListTokens:              "ListTokens",
	opUpdateToken:             "UpdateToken",
	opDeleteToken:             "DeleteToken",
	opRevokeTokens:            "RevokeTokens",
	opListSubjectGrants:       "ListSubjectGrants",
	opRotateRefreshToken:      "RotateRefreshToken",
	opGetRetiredRefresh:       "GetRetiredRefresh",
	opCreateAuthorizationCode: "CreateAuthorizationCode",
	opRedeemAuthorizationCode: "RedeemAuthorizationCode",
	opCreateUser:              "CreateUser",
	opGetUser:                 "GetUser",
	opListUsers:               "ListUsers",
	opUpdateUser:              "UpdateUser",
	opDeleteUser:              "DeleteUser",
	opSweepTokens:             "SweepTokens",
	opSweepAuthorizationCodes: "SweepAuthorizationCodes",
	opLockJanitor:             "LockJanitor",
	opAppendAudit:             "AppendAudit",
	opListAudit:               "ListAudit",
}

func (ts *timedStore) Ready(ctx context.Context) error {
	defer ts.since(opReady, time.Now())
	return ts.Store.Ready(ctx)
}

func (ts *timedStore) CreateService(ctx context.Context, s *tokend.Service) error {
	defer ts.since(opCreateService, time.Now())
	return ts.Store.CreateService(ctx, s)
}

func (ts *timedStore) GetService(ctx context.Context, id int64) (*tokend.Service, error) {
	defer ts.since(opGetService, time.Now())
	return ts.Store.GetService(ctx, id)
}

func (ts *timedStore) ListServices(ctx context.Context) ([]*tokend.Service, error) {
	defer ts.since(opListServices, time.Now())
	return ts.Store.ListServices(ctx)
}

func (ts *timedStore) UpdateService(ctx context.Context, id int64, update func(*tokend.Service) error) (*tokend.Service, error) {
	defer ts.since(opUpdateService, time.Now())
	return ts.Store.UpdateService(ctx, id, update)
}

func (ts *timedStore) DeleteService(ctx context.Context, id int64) error {
	defer ts.since(opDeleteService, time.Now())
	return ts.Store.DeleteService(ctx, id)
}

func (ts *timedStore) CreateClient(ctx context.Context, c *tokend.Client) error {
	defer ts.since(opCreateClient, time.Now())
	return ts.Store.CreateClient(ctx, c)
}

func (ts *timedStore) GetClient(ctx context.Context, id int64) (*tokend.Client, error) {
	defer ts.since(opGetClient, time.Now())
	return ts.Store.GetClient(ctx, id)
}

func (ts *timedStore) GetClientByClientID(ctx context.Context, serviceID int64, clientID string) (*tokend.Client, error) {
	defer ts.since(opGetClientByClientID, time.Now())
	return ts.Store.GetClientByClientID(ctx, serviceID, clientID)
}

func (ts *timedStore) ClientsByClientID(ctx context.Context, clientID string) ([]*tokend.Client, error) {
	defer ts.since(opClientsByClientID, time.Now())
	return ts.Store.ClientsByClientID(ctx, clientID)
}

func (ts *timedStore) ListClients(ctx context.Context, f tokend.ClientFilter) ([]*tokend.Client, error) {
	defer ts.since(opListClients, time.Now())
	return ts.Store.ListClients(ctx, f)
}

func (ts *timedStore) UpdateClient(ctx context.Context, id int64, update func(*tokend.Client) error) (*tokend.Client, error) {
	defer ts.since(opUpdateClient, time.Now())
	return ts.Store.UpdateClient(ctx, id, update)
}

func (ts *timedStore) DeleteClient(ctx context.Context, id int64, revokedAt time.Time, reason string) error {
	defer ts.since(opDeleteClient, time.Now())
	return ts.Store.DeleteClient(ctx, id, revokedAt, reason)
}

func (ts *timedStore) CreateKey(ctx context.Context, k *tokend.Key) error {
	defer ts.since(opCreateKey, time.Now())
	return ts.Store.CreateKey(ctx, k)
}

func (ts *timedStore) GetKeyByHash(ctx context.Context, h tokend.Hash) (*tokend.Key, error) {
	defer ts.since(opGetKeyByHash, time.Now())
	return ts.Store.GetKeyByHash(ctx, h)
}

func (ts *timedStore) ListKeys(ctx context.Context, serviceID int64) ([]*tokend.Key, error) {
	defer ts.since(opListKeys, time.Now())
	return ts.Store.ListKeys(ctx, serviceID)
}

func (ts *timedStore) DeleteKey(ctx context.Context, id int64) error {
	defer ts.since(opDeleteKey, time.Now())
	return ts.Store.DeleteKey(ctx, id)
}

func (ts *timedStore) CountKeys(ctx context.Context) (int, error) {
	defer ts.since(opCountKeys, time.Now())
	return ts.Store.CountKeys(ctx)
}

func (ts *timedStore) CreateToken(ctx context.Context, t *tokend.Token) error {
	defer ts.since(opCreateToken, time.Now())
	return ts.Store.CreateToken(ctx, t)
}

func (ts *timedStore) ImportTokens(ctx context.Context, toks []*tokend.Token) error {
	defer ts.since(opImportTokens, time.Now())
	return ts.Store.ImportTokens(ctx, toks)
}

func (ts *timedStore) GetToken(ctx context.Context, id int64) (*tokend.Token, error) {
	defer ts.since(opGetToken, time.Now())
	return ts.Store.GetToken(ctx, id)
}

func (ts *timedStore) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	defer ts.since(opGetTokenByAccessHash, time.Now())
	return ts.Store.GetTokenByAccessHash(ctx, h)
}

func (ts *timedStore) GetTokenByRefreshHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	defer ts.since(opGetTokenByRefreshHash, time.Now())
	return ts.Store.GetTokenByRefreshHash(ctx, h)
}

func (ts *timedStore) ListTokens(ctx context.Context, f tokend.TokenFilter) (*tokend.TokenPage, error) {
	defer ts.since(opListTokens, time.Now())
	return ts.Store.ListTokens(ctx, f)
}

func (ts *timedStore) UpdateToken(ctx context.Context, id int64, update func(*tokend.Token) error) (*tokend.Token, error) {
	defer ts.since(opUpdateToken, time.Now())
	return ts.Store.UpdateToken(ctx, id, update)
}

func (ts *timedStore) DeleteToken(ctx context.Context, id int64) error {
	defer ts.since(opDeleteToken, time.Now())
	return ts.Store.DeleteToken(ctx, id)
}

func (ts *timedStore) RevokeTokens(ctx context.Context, f tokend.RevokeFilter, at time.Time, reason string) (int, error) {
	defer ts.since(opRevokeTokens, time.Now())
	return ts.Store.RevokeTokens(ctx, f, at, reason)
}

func (ts *timedStore) ListSubjectGrants(ctx context.Context, serviceID int64, subject string, now time.Time) ([]*tokend.ClientGrant, error) {
	defer ts.since(opListSubjectGrants, time.Now())
	return ts.Store.ListSubjectGrants(ctx, serviceID, subject, now)
}

func (ts *timedStore) RotateRefreshToken(ctx context.Context, old tokend.Hash, retired tokend.RetiredRefresh, update func(*tokend.Token) error) (*tokend.Token, error) {
	defer ts.since(opRotateRefreshToken, time.Now())
	return ts.Store.RotateRefreshToken(ctx, old, retired, update)
}

func (ts *timedStore) GetRetiredRefresh(ctx context.Context, h tokend.Hash) (*tokend.RetiredRefresh, error) {
	defer ts.since(opGetRetiredRefresh, time.Now())
	return ts.Store.GetRetiredRefresh(ctx, h)
}

func (ts *timedStore) CreateAuthorizationCode(ctx context.Context, code *tokend.AuthorizationCode) error {
	defer ts.since(opCreateAuthorizationCode, time.Now())
	return ts.Store.CreateAuthorizationCode(ctx, code)
}

func (ts *timedStore) RedeemAuthorizationCode(ctx context.Context, h tokend.Hash, at time.Time, mint func(*tokend.AuthorizationCode) (*tokend.Token, error)) (*tokend.AuthorizationCode, *tokend.Token, error) {
	defer ts.since(opRedeemAuthorizationCode, time.Now())
	return ts.Store.RedeemAuthorizationCode(ctx, h, at, mint)
}

func (ts *timedStore) CreateUser(ctx context.Context, u *tokend.User) error {
	defer ts.since(opCreateUser, time.Now())
	return ts.Store.CreateUser(ctx, u)
}

func (ts *timedStore) GetUser(ctx context.Context, serviceID int64, username string) (*tokend.User, error) {
	defer ts.since(opGetUser, time.Now())
	return ts.Store.GetUser(ctx, serviceID, username)
}

func (ts *timedStore) ListUsers(ctx context.Context, serviceID, afterID int64, limit int) ([]*tokend.User, error) {
	defer ts.since(opListUsers, time.Now())
	return ts.Store.ListUsers(ctx, serviceID, afterID, limit)
}

func (ts *timedStore) UpdateUser(ctx context.Context, serviceID int64, username string, update func(*tokend.User) error) (*tokend.User, error) {
	defer ts.since(opUpdateUser, time.Now())
	return ts.Store.UpdateUser(ctx, serviceID, username, update)
}

func (ts *timedStore) DeleteUser(ctx context.Context, serviceID int64, username string) error {
	defer ts.since(opDeleteUser, time.Now())
	return ts.Store.DeleteUser(ctx, serviceID, username)
}

func (ts *timedStore) SweepTokens(ctx context.Context, serviceID int64, cutoff time.Time, limit int) (int, error) {
	defer ts.since(opSweepTokens, time.Now())
	return ts.Store.SweepTokens(ctx, serviceID, cutoff, limit)
}

func (ts *timedStore) SweepAuthorizationCodes(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	defer ts.since(opSweepAuthorizationCodes, time.Now())
	return ts.Store.SweepAuthorizationCodes(ctx, cutoff, limit)
}

func (ts *timedStore) LockJanitor(ctx context.Context) (release func(), ok bool, err error) {
	defer ts.since(opLockJanitor, time.Now())
	return ts.Store.LockJanitor(ctx)
}

func (ts *timedStore) AppendAudit(ctx context.Context, entries ...tokend.AuditEntry) error {
	defer ts.since(opAppendAudit, time.Now())
	return ts.Store.AppendAudit(ctx, entries...)
}

func (ts *timedStore) ListAudit(ctx context.Context, f tokend.AuditFilter) (*tokend.AuditPage, error) {
	defer ts.since(opListAudit, time.Now())
	return ts.Store.ListAudit(ctx, f)
}
