// Package faultstore wraps a tokend.Store to make it fail on demand, as a
// store fails when its disk fills up, its file turns read-only or its
// server goes away: with EUNAVAILABLE errors wrapping a cause. Tests use
// it to check what every surface answers then, and that service resumes
// when the store does. The stores' own fault behaviour (a failed write
// leaves nothing behind) is tested against the real stores (sqlite's
// fault tests, the crash tests).
package faultstore

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend"
)

// Mode is what fails.
type Mode int32

const (
	OK     Mode = iota // everything passes through
	Writes             // writes fail, reads pass (a full disk, a read-only file)
	All                // every call fails (a server that went away)
)

// ErrInjected is the cause the injected failures wrap.
var ErrInjected = errors.New("faultstore: injected store failure")

// Store is a tokend.Store whose calls fail while its mode says so. Calls
// it does not override (methods added to tokend.Store later) pass through.
type Store struct {
	tokend.Store
	mode  atomic.Int32
	fails atomic.Int64
}

// New wraps s; it starts in mode OK.
func New(s tokend.Store) *Store { return &Store{Store: s} }

// Set changes what fails from now on.
func (s *Store) Set(m Mode) { s.mode.Store(int32(m)) }

// Failures counts the calls failed so far.
func (s *Store) Failures() int64 { return s.fails.Load() }

// unavailable is the error a failing call returns.
type unavailable struct{}

func (unavailable) Error() string {
	return "tokend: unavailable: the database is unavailable: " + ErrInjected.Error()
}
func (unavailable) Unwrap() []error {
	return []error{&tokend.Error{Code: tokend.EUNAVAILABLE, Message: "the database is unavailable"}, ErrInjected}
}

func (s *Store) fail(write bool) error {
	switch m := Mode(s.mode.Load()); {
	case m == All, m == Writes && write:
		s.fails.Add(1)
		return unavailable{}
	}
	return nil
}

func (s *Store) read() error  { return s.fail(false) }
func (s *Store) write() error { return s.fail(true) }

func (s *Store) CreateService(ctx context.Context, v *tokend.Service) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateService(ctx, v)
}

func (s *Store) GetService(ctx context.Context, id int64) (*tokend.Service, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetService(ctx, id)
}

func (s *Store) ListServices(ctx context.Context) ([]*tokend.Service, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListServices(ctx)
}

func (s *Store) UpdateService(ctx context.Context, id int64, update func(*tokend.Service) error) (*tokend.Service, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	return s.Store.UpdateService(ctx, id, update)
}

func (s *Store) DeleteService(ctx context.Context, id int64) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.DeleteService(ctx, id)
}

func (s *Store) CreateClient(ctx context.Context, c *tokend.Client) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateClient(ctx, c)
}

func (s *Store) GetClient(ctx context.Context, id int64) (*tokend.Client, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetClient(ctx, id)
}

func (s *Store) GetClientByClientID(ctx context.Context, serviceID int64, clientID string) (*tokend.Client, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetClientByClientID(ctx, serviceID, clientID)
}

func (s *Store) ClientsByClientID(ctx context.Context, clientID string) ([]*tokend.Client, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ClientsByClientID(ctx, clientID)
}

func (s *Store) ListClients(ctx context.Context, f tokend.ClientFilter) ([]*tokend.Client, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListClients(ctx, f)
}

func (s *Store) UpdateClient(ctx context.Context, id int64, update func(*tokend.Client) error) (*tokend.Client, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	return s.Store.UpdateClient(ctx, id, update)
}

func (s *Store) DeleteClient(ctx context.Context, id int64, revokedAt time.Time, reason string) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.DeleteClient(ctx, id, revokedAt, reason)
}

func (s *Store) CreateKey(ctx context.Context, k *tokend.Key) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateKey(ctx, k)
}

func (s *Store) GetKeyByHash(ctx context.Context, h tokend.Hash) (*tokend.Key, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetKeyByHash(ctx, h)
}

func (s *Store) ListKeys(ctx context.Context, serviceID int64) ([]*tokend.Key, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListKeys(ctx, serviceID)
}

func (s *Store) DeleteKey(ctx context.Context, id int64) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.DeleteKey(ctx, id)
}

func (s *Store) Ready(ctx context.Context) error {
	if err := s.read(); err != nil {
		return err
	}
	return s.Store.Ready(ctx)
}

func (s *Store) CountKeys(ctx context.Context) (int, error) {
	if err := s.read(); err != nil {
		return 0, err
	}
	return s.Store.CountKeys(ctx)
}

func (s *Store) CreateToken(ctx context.Context, t *tokend.Token) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateToken(ctx, t)
}

func (s *Store) ImportTokens(ctx context.Context, toks []*tokend.Token) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.ImportTokens(ctx, toks)
}

func (s *Store) GetToken(ctx context.Context, id int64) (*tokend.Token, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetToken(ctx, id)
}

func (s *Store) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetTokenByAccessHash(ctx, h)
}

func (s *Store) GetTokenByRefreshHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetTokenByRefreshHash(ctx, h)
}

func (s *Store) ListTokens(ctx context.Context, f tokend.TokenFilter) (*tokend.TokenPage, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListTokens(ctx, f)
}

func (s *Store) UpdateToken(ctx context.Context, id int64, update func(*tokend.Token) error) (*tokend.Token, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	return s.Store.UpdateToken(ctx, id, update)
}

func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.DeleteToken(ctx, id)
}

func (s *Store) RevokeTokens(ctx context.Context, f tokend.RevokeFilter, at time.Time, reason string) (int, error) {
	if err := s.write(); err != nil {
		return 0, err
	}
	return s.Store.RevokeTokens(ctx, f, at, reason)
}

func (s *Store) ListSubjectGrants(ctx context.Context, serviceID int64, subject string, now time.Time) ([]*tokend.ClientGrant, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListSubjectGrants(ctx, serviceID, subject, now)
}

func (s *Store) RotateRefreshToken(ctx context.Context, old tokend.Hash, retired tokend.RetiredRefresh, update func(*tokend.Token) error) (*tokend.Token, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	return s.Store.RotateRefreshToken(ctx, old, retired, update)
}

func (s *Store) GetRetiredRefresh(ctx context.Context, h tokend.Hash) (*tokend.RetiredRefresh, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetRetiredRefresh(ctx, h)
}

func (s *Store) CreateAuthorizationCode(ctx context.Context, code *tokend.AuthorizationCode) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateAuthorizationCode(ctx, code)
}

func (s *Store) RedeemAuthorizationCode(ctx context.Context, h tokend.Hash, at time.Time, mint func(*tokend.AuthorizationCode) (*tokend.Token, error)) (*tokend.AuthorizationCode, *tokend.Token, error) {
	if err := s.write(); err != nil {
		return nil, nil, err
	}
	return s.Store.RedeemAuthorizationCode(ctx, h, at, mint)
}

func (s *Store) CreateUser(ctx context.Context, u *tokend.User) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.CreateUser(ctx, u)
}

func (s *Store) GetUser(ctx context.Context, serviceID int64, username string) (*tokend.User, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.GetUser(ctx, serviceID, username)
}

func (s *Store) ListUsers(ctx context.Context, serviceID, afterID int64, limit int) ([]*tokend.User, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListUsers(ctx, serviceID, afterID, limit)
}

func (s *Store) UpdateUser(ctx context.Context, serviceID int64, username string, update func(*tokend.User) error) (*tokend.User, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	return s.Store.UpdateUser(ctx, serviceID, username, update)
}

func (s *Store) DeleteUser(ctx context.Context, serviceID int64, username string) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.DeleteUser(ctx, serviceID, username)
}

func (s *Store) AppendAudit(ctx context.Context, entries ...tokend.AuditEntry) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.AppendAudit(ctx, entries...)
}

func (s *Store) ListAudit(ctx context.Context, f tokend.AuditFilter) (*tokend.AuditPage, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return s.Store.ListAudit(ctx, f)
}

func (s *Store) SweepTokens(ctx context.Context, serviceID int64, cutoff time.Time, limit int) (int, error) {
	if err := s.write(); err != nil {
		return 0, err
	}
	return s.Store.SweepTokens(ctx, serviceID, cutoff, limit)
}

func (s *Store) SweepAuthorizationCodes(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if err := s.write(); err != nil {
		return 0, err
	}
	return s.Store.SweepAuthorizationCodes(ctx, cutoff, limit)
}

func (s *Store) LockJanitor(ctx context.Context) (func(), bool, error) {
	if err := s.write(); err != nil {
		return nil, false, err
	}
	return s.Store.LockJanitor(ctx)
}
