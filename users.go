package tokend

import (
	"context"
	"time"
)

// User is an entry of a service's built-in users table, which the password
// grant checks when the service has no password callback.
type User struct {
	ID           int64
	ServiceID    int64
	Username     string // also the subject of the user's tokens
	PasswordHash string // a PHC string (argon2id); never the password
	AccountID    string
	Roles        []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// VerifiedUser is who a password check found.
type VerifiedUser struct {
	Subject   string
	AccountID string
	Roles     []string
}

// PasswordHasher hashes and checks human-chosen passwords. The binary wires
// argon2id (package passwd); the core stays free of its dependency.
type PasswordHasher interface {
	Hash(password string) string
	Verify(encoded, password string) (bool, error)
}

// PasswordCallback asks a host application to check a password. It returns
// the user on success, an EGRANT error when the host says no, and an
// EUNAVAILABLE error when the host cannot be asked.
type PasswordCallback interface {
	VerifyPassword(ctx context.Context, url, username, password string) (*VerifiedUser, error)
}

// Password limits: long enough to be a passphrase, short enough that hashing
// it costs nothing extra.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// UserInput creates or changes a user; nil fields are left as they are.
type UserInput struct {
	Username  string // create only
	Password  *string
	AccountID *string
	Roles     *[]string
}

func (c *Core) applyUser(u *User, in UserInput) error {
	if in.Password != nil {
		if n := len(*in.Password); n < MinPasswordLen || n > MaxPasswordLen {
			return Invalid("password", "must be between %d and %d bytes", MinPasswordLen, MaxPasswordLen)
		}
		if c.passwords == nil {
			return Errorf(EINTERNAL, "no password hasher configured")
		}
		u.PasswordHash = c.passwords.Hash(*in.Password)
	}
	if in.AccountID != nil {
		if *in.AccountID != "" {
			if err := validIdent("account_id", *in.AccountID, MaxSubjectLen); err != nil {
				return err
			}
		}
		u.AccountID = *in.AccountID
	}
	if in.Roles != nil {
		roles, err := validRoles("roles", *in.Roles)
		if err != nil {
			return err
		}
		u.Roles = roles
	}
	return nil
}

// CreateUser adds a user to service sid's built-in users table.
func (c *Core) CreateUser(ctx context.Context, p *Principal, sid int64, in UserInput) (*User, error) {
	if _, err := c.service(ctx, p, sid, PermUsersWrite); err != nil {
		return nil, err
	}
	if err := validSubject("username", in.Username); err != nil {
		return nil, err
	}
	if in.Password == nil {
		return nil, Invalid("password", "is required")
	}
	now := c.Now()
	u := &User{ServiceID: sid, Username: in.Username, CreatedAt: now, UpdatedAt: now}
	if err := c.applyUser(u, in); err != nil {
		return nil, err
	}
	if err := c.store.CreateUser(c.audited(ctx, actorOf(p), sid, AuditUserCreate, TargetUser, in.Username), u); err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns a user of service sid.
func (c *Core) GetUser(ctx context.Context, p *Principal, sid int64, username string) (*User, error) {
	if _, err := c.service(ctx, p, sid, PermUsersRead); err != nil {
		return nil, err
	}
	if err := validSubject("username", username); err != nil {
		return nil, err
	}
	return c.store.GetUser(ctx, sid, username)
}

// ListUsers returns up to limit users of service sid with ids above
// afterID, and whether more follow.
func (c *Core) ListUsers(ctx context.Context, p *Principal, sid, afterID int64, limit int) ([]*User, bool, error) {
	if _, err := c.service(ctx, p, sid, PermUsersRead); err != nil {
		return nil, false, err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, false, Invalid("page_size", "must be between 1 and %d", MaxPageSize)
	}
	us, err := c.store.ListUsers(ctx, sid, afterID, limit+1)
	return trimPage(us, limit, err)
}

// UpdateUser changes a user's password, account or roles. Tokens already
// issued keep what they carry.
func (c *Core) UpdateUser(ctx context.Context, p *Principal, sid int64, username string, in UserInput) (*User, error) {
	if _, err := c.service(ctx, p, sid, PermUsersWrite); err != nil {
		return nil, err
	}
	if err := validSubject("username", username); err != nil {
		return nil, err
	}
	if in.Username != "" && in.Username != username {
		return nil, Invalid("username", "cannot be changed")
	}
	// Hash outside the transaction: argon2id takes tens of milliseconds.
	var staged User
	if err := c.applyUser(&staged, in); err != nil {
		return nil, err
	}
	ctx = c.audited(ctx, actorOf(p), sid, AuditUserUpdate, TargetUser, username)
	return c.store.UpdateUser(ctx, sid, username, func(u *User) error {
		if in.Password != nil {
			u.PasswordHash = staged.PasswordHash
		}
		if in.AccountID != nil {
			u.AccountID = staged.AccountID
		}
		if in.Roles != nil {
			u.Roles = staged.Roles
		}
		u.UpdatedAt = c.Now()
		return nil
	})
}

// DeleteUser removes a user and revokes every token issued for them. The
// tokens go first: if the deletion then fails, the user is locked out and
// a retry finishes the job, rather than a deleted user keeping live tokens.
func (c *Core) DeleteUser(ctx context.Context, p *Principal, sid int64, username string) error {
	if _, err := c.service(ctx, p, sid, PermUsersWrite); err != nil {
		return err
	}
	if err := validSubject("username", username); err != nil {
		return err
	}
	if _, err := c.store.GetUser(ctx, sid, username); err != nil {
		return err
	}
	rctx := auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenRevoke, TargetSubject, username), username, "user_deleted")
	_, err := c.revoke(rctx, RevokeFilter{ServiceID: sid, Subject: &username}, c.Now(), "user_deleted", "")
	c.tokens.changedService(sid)
	if err != nil {
		return err
	}
	return c.store.DeleteUser(c.audited(ctx, actorOf(p), sid, AuditUserDelete, TargetUser, username), sid, username)
}

// verifyPassword checks a password with the service's callback or its
// built-in users table.
func (c *Core) verifyPassword(ctx context.Context, svc *Service, username, password string) (*VerifiedUser, error) {
	rejected := Errorf(EGRANT, "invalid username or password")
	if len(password) > MaxPasswordLen || validSubject("username", username) != nil {
		return nil, rejected
	}
	if svc.PasswordCallbackURL != "" {
		if c.callback == nil {
			return nil, Errorf(EUNAVAILABLE, "no password callback is configured")
		}
		u, err := c.callback.VerifyPassword(ctx, svc.PasswordCallbackURL, username, password)
		if err != nil {
			return nil, err
		}
		// What the host sends back is not the client's fault: a bad answer
		// is the host's failure, never an invalid_request for the client.
		if u == nil || validSubject("subject", u.Subject) != nil {
			return nil, Errorf(EUNAVAILABLE, "the password callback returned an invalid subject")
		}
		if u.AccountID != "" && validIdent("account_id", u.AccountID, MaxSubjectLen) != nil {
			return nil, Errorf(EUNAVAILABLE, "the password callback returned an invalid account_id")
		}
		if _, err := validRoles("roles", u.Roles); err != nil {
			return nil, Errorf(EUNAVAILABLE, "the password callback returned invalid roles")
		}
		return u, nil
	}
	if c.passwords == nil {
		return nil, rejected
	}
	u, err := c.store.GetUser(ctx, svc.ID, username)
	if ErrorCode(err) == ENOTFOUND {
		// An unknown user takes as long to reject as a wrong password, so
		// timing does not tell which usernames exist.
		c.dummyOnce.Do(func() { c.dummyHash = c.passwords.Hash("tokend-dummy-password") })
		c.passwords.Verify(c.dummyHash, password)
		return nil, rejected
	} else if err != nil {
		return nil, err
	}
	ok, err := c.passwords.Verify(u.PasswordHash, password)
	if err != nil || !ok {
		return nil, rejected
	}
	return &VerifiedUser{Subject: u.Username, AccountID: u.AccountID, Roles: u.Roles}, nil
}
