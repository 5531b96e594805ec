package tokend

import (
	"context"
	"slices"
	"time"
)

// KeyInput describes a management key to create.
type KeyInput struct {
	Name        string
	Permissions []Permission
	TTL         time.Duration // zero: never expires
}

// CreateKey issues a management key for service sid (0: the organization)
// and returns it with its raw value, shown this once. A key cannot grant
// more than its creator holds.
func (c *Core) CreateKey(ctx context.Context, p *Principal, sid int64, in KeyInput) (*Key, string, error) {
	if sid == 0 {
		if err := p.authorizeOrg(PermKeysWrite); err != nil {
			return nil, "", err
		}
	} else if _, err := c.service(ctx, p, sid, PermKeysWrite); err != nil {
		return nil, "", err
	}
	if err := validName("name", in.Name); err != nil {
		return nil, "", err
	}
	if len(in.Permissions) == 0 {
		return nil, "", Invalid("permissions", "must name at least one permission")
	}
	perms := make([]Permission, 0, len(in.Permissions))
	for _, perm := range in.Permissions {
		if !slices.Contains(Permissions, perm) {
			return nil, "", Invalid("permissions", "unknown permission %.40q", perm)
		}
		if !p.Can(perm) || (perm == PermAll && !p.Can(PermAll)) {
			return nil, "", Errorf(EFORBIDDEN, "cannot grant %q: the calling key does not hold it", perm)
		}
		if !slices.Contains(perms, perm) {
			perms = append(perms, perm)
		}
	}
	if err := validDuration("ttl", in.TTL); err != nil {
		return nil, "", err
	}
	raw := NewSecret(KindManagementKey)
	k := &Key{ServiceID: sid, Name: in.Name, Permissions: perms, Hash: HashSecret(raw), CreatedAt: c.Now()}
	if in.TTL > 0 {
		k.ExpiresAt = k.CreatedAt.Add(in.TTL)
	}
	if err := c.store.CreateKey(c.audited(ctx, actorOf(p), sid, AuditKeyCreate, TargetKey, ""), k); err != nil {
		return nil, "", err
	}
	return k, raw, nil
}

// ListKeys lists the keys of service sid, or the organization's when sid is 0.
func (c *Core) ListKeys(ctx context.Context, p *Principal, sid int64) ([]*Key, error) {
	if sid == 0 {
		if err := p.authorizeOrg(PermKeysRead); err != nil {
			return nil, err
		}
	} else if _, err := c.service(ctx, p, sid, PermKeysRead); err != nil {
		return nil, err
	}
	return c.store.ListKeys(ctx, sid)
}

// DeleteKey removes a key of service sid (0: an organization key). A key
// may delete itself.
func (c *Core) DeleteKey(ctx context.Context, p *Principal, sid, id int64) error {
	if sid == 0 {
		if err := p.authorizeOrg(PermKeysWrite); err != nil {
			return err
		}
	} else if _, err := c.service(ctx, p, sid, PermKeysWrite); err != nil {
		return err
	}
	keys, err := c.store.ListKeys(ctx, sid)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(keys, func(k *Key) bool { return k.ID == id }) {
		return NotFound("key")
	}
	return c.store.DeleteKey(c.audited(ctx, actorOf(p), sid, AuditKeyDelete, TargetKey, idString(id)), id)
}
