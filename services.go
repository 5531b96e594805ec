package tokend

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServiceInput creates or changes a service; nil fields are left as they
// are (on create: defaults).
type ServiceInput struct {
	Name                *string
	Description         *string
	Issuer              *string // "" resets to the derived issuer
	AccessTokenTTL      *time.Duration
	RefreshTokenTTL     *time.Duration
	ScopesSupported     *[]string
	GrantTypesSupported *[]GrantType
	RotateRefreshTokens *bool
	RefreshReuseGrace   *time.Duration
	KeepRefreshExpiry   *bool
	PasswordCallbackURL *string // "" switches back to the built-in users table
	AllowPlainPKCE      *bool
	TimeZone            *string // IANA zone name; "" switches back to UTC
}

// DefaultGrantTypes are the grants a new service supports unless told
// otherwise; the password grant is opt-in.
var DefaultGrantTypes = []GrantType{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken}

// IssuerOf returns the service's issuer URL: the configured one, or one
// derived from the deployment's base URL.
func (c *Core) IssuerOf(s *Service) string {
	if s.Issuer != "" {
		return s.Issuer
	}
	return fmt.Sprintf("%s/oauth/%d", c.baseURL, s.ID)
}

// EndpointURL returns the URL of one of service s's OAuth endpoints
// ("token", "introspect", "revoke"). Endpoints always live under the
// deployment's base URL, even when the service has a custom issuer.
func (c *Core) EndpointURL(s *Service, name string) string {
	return fmt.Sprintf("%s/oauth/%d/%s", c.baseURL, s.ID, name)
}

// ServiceByIssuerPath finds the service whose issuer URL has the given path
// (RFC 8414 §3 derives the metadata location from it). ENOTFOUND if none.
// Default issuers ("/oauth/{id}") resolve from the id; custom ones through
// an index rebuilt at most once per cache TTL, so unauthenticated
// discovery requests cannot make every call scan the services.
func (c *Core) ServiceByIssuerPath(ctx context.Context, path string) (*Service, error) {
	path = strings.TrimRight(path, "/")
	if id, ok := defaultIssuerID(path); ok {
		s, err := c.cachedService(ctx, id)
		if err != nil {
			return nil, err
		}
		if s.Issuer != "" {
			return nil, NotFound("service") // its issuer lives elsewhere
		}
		return s, nil
	}
	id, err := c.cache.issuerPath(path, func() (map[string]int64, error) {
		services, err := c.store.ListServices(ctx)
		if err != nil {
			return nil, err
		}
		index := map[string]int64{}
		for _, s := range services {
			if u, err := url.Parse(s.Issuer); s.Issuer != "" && err == nil {
				index[strings.TrimRight(u.Path, "/")] = s.ID
			}
		}
		return index, nil
	})
	if err != nil {
		return nil, err
	}
	return c.cachedService(ctx, id)
}

// defaultIssuerID reads the id from a default issuer's path, "/oauth/{id}".
func defaultIssuerID(path string) (int64, bool) {
	rest, ok := strings.CutPrefix(path, "/oauth/")
	if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" || rest[0] == '0' {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// checkIssuerUnique refuses a custom issuer that another service has, or
// whose path the default issuers use: discovery must find one service.
func (c *Core) checkIssuerUnique(ctx context.Context, s *Service) error {
	if s.Issuer == "" {
		return nil
	}
	u, _ := url.Parse(s.Issuer)
	if _, ok := defaultIssuerID(strings.TrimRight(u.Path, "/")); ok {
		return Invalid("issuer", "paths of the form /oauth/{id} are reserved for default issuers")
	}
	services, err := c.store.ListServices(ctx)
	if err != nil {
		return err
	}
	for _, other := range services {
		if other.ID == s.ID || other.Issuer == "" {
			continue
		}
		if o, err := url.Parse(other.Issuer); err == nil && strings.TrimRight(o.Path, "/") == strings.TrimRight(u.Path, "/") {
			return &Error{Code: ECONFLICT, Field: "issuer", Message: "another service's issuer has the same path; discovery could not tell them apart"}
		}
	}
	return nil
}

// CachedService returns service id for the OAuth endpoints, which need no
// management permission: the service is public through its metadata.
func (c *Core) CachedService(ctx context.Context, id int64) (*Service, error) {
	return c.cachedService(ctx, id)
}

func (in *ServiceInput) apply(s *Service) error {
	if in.Name != nil {
		if err := validName("name", *in.Name); err != nil {
			return err
		}
		s.Name = *in.Name
	}
	if in.Description != nil {
		if err := validText("description", *in.Description, MaxTextLen); err != nil {
			return err
		}
		s.Description = *in.Description
	}
	if in.Issuer != nil {
		if *in.Issuer != "" {
			// RFC 8414 §2: https (http allowed for loopback and tests), no query or fragment.
			u, err := url.Parse(*in.Issuer)
			if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return Invalid("issuer", "must be an absolute http(s) URL")
			}
			if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
				return Invalid("issuer", "must not have a query or fragment (RFC 8414)")
			}
			if len(*in.Issuer) > MaxURLLen {
				return Invalid("issuer", "must be at most %d characters", MaxURLLen)
			}
		}
		s.Issuer = *in.Issuer
	}
	if in.AccessTokenTTL != nil {
		if err := validDuration("access_token_ttl", *in.AccessTokenTTL); err != nil {
			return err
		}
		if *in.AccessTokenTTL == 0 {
			return Invalid("access_token_ttl", "must be positive")
		}
		s.AccessTokenTTL = *in.AccessTokenTTL
	}
	if in.RefreshTokenTTL != nil {
		if err := validDuration("refresh_token_ttl", *in.RefreshTokenTTL); err != nil {
			return err
		}
		if *in.RefreshTokenTTL == 0 {
			return Invalid("refresh_token_ttl", "must be positive")
		}
		s.RefreshTokenTTL = *in.RefreshTokenTTL
	}
	if in.ScopesSupported != nil {
		scopes, err := normScopes("scopes_supported", *in.ScopesSupported)
		if err != nil {
			return err
		}
		s.ScopesSupported = scopes
	}
	if in.GrantTypesSupported != nil {
		gs, err := validGrantTypes("grant_types_supported", *in.GrantTypesSupported)
		if err != nil {
			return err
		}
		s.GrantTypesSupported = gs
	}
	if in.RotateRefreshTokens != nil {
		s.RefreshPolicy.Rotate = *in.RotateRefreshTokens
	}
	if in.RefreshReuseGrace != nil {
		if *in.RefreshReuseGrace < 0 || *in.RefreshReuseGrace > 5*time.Minute {
			return Invalid("refresh_reuse_grace", "must be between 0 and 300 seconds")
		}
		s.RefreshPolicy.ReuseGrace = *in.RefreshReuseGrace
	}
	if in.KeepRefreshExpiry != nil {
		s.RefreshPolicy.KeepExpiry = *in.KeepRefreshExpiry
	}
	if in.PasswordCallbackURL != nil {
		if *in.PasswordCallbackURL != "" {
			if err := validURL("password_callback_url", *in.PasswordCallbackURL, false); err != nil {
				return err
			}
		}
		s.PasswordCallbackURL = *in.PasswordCallbackURL
	}
	if in.AllowPlainPKCE != nil {
		s.AllowPlainPKCE = *in.AllowPlainPKCE
	}
	if in.TimeZone != nil {
		if err := validTimeZone("time_zone", *in.TimeZone); err != nil {
			return err
		}
		s.TimeZone = *in.TimeZone
	}
	return nil
}

// CreateService registers a new tenant. Only organization keys may.
func (c *Core) CreateService(ctx context.Context, p *Principal, in ServiceInput) (*Service, error) {
	if err := p.authorizeOrg(PermServicesWrite); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, Invalid("name", "is required")
	}
	now := c.Now()
	s := &Service{
		AccessTokenTTL:      DefaultAccessTokenTTL,
		RefreshTokenTTL:     DefaultRefreshTokenTTL,
		ScopesSupported:     []string{},
		GrantTypesSupported: slices.Clone(DefaultGrantTypes),
		RefreshPolicy:       RefreshPolicy{Rotate: true},
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	if err := in.apply(s); err != nil {
		return nil, err
	}
	if err := c.checkIssuerUnique(ctx, s); err != nil {
		return nil, err
	}
	defer c.cache.forgetIssuers()
	err := createWithRandomID(func(id int64) error {
		s.ID = id
		return c.store.CreateService(c.audited(ctx, actorOf(p), id, AuditServiceCreate, TargetService, idString(id)), s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// GetService returns one service.
func (c *Core) GetService(ctx context.Context, p *Principal, id int64) (*Service, error) {
	if err := p.authorize(id, PermServicesRead); err != nil {
		return nil, err
	}
	return c.store.GetService(ctx, id)
}

// ListServices returns the services the principal can see.
func (c *Core) ListServices(ctx context.Context, p *Principal) ([]*Service, error) {
	if p == nil {
		return nil, Errorf(EUNAUTHORIZED, "missing credentials")
	}
	if !p.Can(PermServicesRead) {
		return nil, Errorf(EFORBIDDEN, "this key lacks the %q permission", PermServicesRead)
	}
	if p.ServiceID != 0 {
		s, err := c.store.GetService(ctx, p.ServiceID)
		if err != nil {
			return nil, err
		}
		return []*Service{s}, nil
	}
	return c.store.ListServices(ctx)
}

// UpdateService changes a service's settings. Tokens already issued keep
// their scopes and expiries.
func (c *Core) UpdateService(ctx context.Context, p *Principal, id int64, in ServiceInput) (*Service, error) {
	if err := p.authorize(id, PermServicesWrite); err != nil {
		return nil, err
	}
	if in.Issuer != nil && *in.Issuer != "" {
		probe := &Service{ID: id}
		if err := in.apply(probe); err != nil {
			return nil, err
		}
		if err := c.checkIssuerUnique(ctx, probe); err != nil {
			return nil, err
		}
	}
	defer c.cache.forgetService(id)
	defer c.cache.forgetIssuers()
	ctx = c.audited(ctx, actorOf(p), id, AuditServiceUpdate, TargetService, idString(id))
	return c.store.UpdateService(ctx, id, func(s *Service) error {
		if err := in.apply(s); err != nil {
			return err
		}
		s.UpdatedAt = c.Now()
		return nil
	})
}

// DeleteService removes a service and everything it owns. Only
// organization keys may, so a service key cannot erase its own tenant.
func (c *Core) DeleteService(ctx context.Context, p *Principal, id int64) error {
	if err := p.authorizeOrg(PermServicesWrite); err != nil {
		return err
	}
	defer c.cache.forgetAll()
	defer c.tokens.changedService(id)
	return c.store.DeleteService(c.audited(ctx, actorOf(p), id, AuditServiceDelete, TargetService, idString(id)), id)
}

// service loads the service a call is about after authorizing it.
func (c *Core) service(ctx context.Context, p *Principal, sid int64, perm Permission) (*Service, error) {
	if err := p.authorize(sid, perm); err != nil {
		return nil, err
	}
	return c.store.GetService(ctx, sid)
}
