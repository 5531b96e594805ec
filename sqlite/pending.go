package sqlite

// TRANSITIONAL: these methods joined tokend.Store with the OAuth endpoints;
// their real implementations are being written and replace this file.

import (
	"context"
	"time"

	"github.com/tokend/tokend"
)

func pending() error { return tokend.Errorf(tokend.EUNAVAILABLE, "not implemented yet") }

func (s *Store) RotateRefreshToken(context.Context, tokend.Hash, tokend.RetiredRefresh, func(*tokend.Token) error) (*tokend.Token, error) {
	return nil, pending()
}
func (s *Store) GetRetiredRefresh(context.Context, tokend.Hash) (*tokend.RetiredRefresh, error) {
	return nil, pending()
}
func (s *Store) CreateAuthorizationCode(context.Context, *tokend.AuthorizationCode) error {
	return pending()
}
func (s *Store) RedeemAuthorizationCode(context.Context, tokend.Hash, time.Time, func(*tokend.AuthorizationCode) (*tokend.Token, error)) (*tokend.AuthorizationCode, *tokend.Token, error) {
	return nil, nil, pending()
}
func (s *Store) CreateUser(context.Context, *tokend.User) error { return pending() }
func (s *Store) GetUser(context.Context, int64, string) (*tokend.User, error) {
	return nil, pending()
}
func (s *Store) ListUsers(context.Context, int64, int64, int) ([]*tokend.User, error) {
	return nil, pending()
}
func (s *Store) UpdateUser(context.Context, int64, string, func(*tokend.User) error) (*tokend.User, error) {
	return nil, pending()
}
func (s *Store) DeleteUser(context.Context, int64, string) error { return pending() }
