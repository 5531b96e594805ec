package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

var errAbort = errors.New("storetest: update aborted")

func testServices(t *testing.T, s tokend.Store) {
	a := mustService(t, s, 3_000_000_000_002)
	b := mustService(t, s, 3_000_000_000_001)

	t.Run("GetRoundTripsEveryField", func(t *testing.T) {
		got, err := s.GetService(t.Context(), a.ID)
		mustNoErr(t, err, "GetService")
		mustEqual(t, "service", got, a)
	})
	t.Run("EmptyFieldsRoundTrip", func(t *testing.T) {
		sv := &tokend.Service{ID: 3_000_000_000_009, ScopesSupported: []string{}, GrantTypesSupported: []tokend.GrantType{}, CreatedAt: t0, UpdatedAt: t0}
		mustNoErr(t, s.CreateService(t.Context(), sv), "CreateService")
		got, err := s.GetService(t.Context(), sv.ID)
		mustNoErr(t, err, "GetService")
		mustEqual(t, "service", got, sv)
		mustNoErr(t, s.DeleteService(t.Context(), sv.ID), "DeleteService")
	})
	t.Run("ListOrderedByID", func(t *testing.T) {
		got, err := s.ListServices(t.Context())
		mustNoErr(t, err, "ListServices")
		mustEqual(t, "services", got, []*tokend.Service{b, a})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetService(t.Context(), 42)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.UpdateService(t.Context(), 42, func(*tokend.Service) error { return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteService(t.Context(), 42), tokend.ENOTFOUND, "")
	})
	t.Run("ErrConflictID", func(t *testing.T) {
		dup := *a
		dup.Name = "other"
		wantCode(t, s.CreateService(t.Context(), &dup), tokend.ECONFLICT, "id")
		got, _ := s.GetService(t.Context(), a.ID)
		mustEqual(t, "service", got, a)
	})
	t.Run("UpdateWritesEveryField", func(t *testing.T) {
		want := &tokend.Service{
			ID: a.ID, Name: "renamed", Issuer: "", AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour,
			ScopesSupported: []string{"x"}, GrantTypesSupported: []tokend.GrantType{tokend.GrantPassword},
			RefreshPolicy: tokend.RefreshPolicy{}, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(time.Hour),
		}
		got, err := s.UpdateService(t.Context(), a.ID, func(sv *tokend.Service) error {
			mustEqual(t, "service seen by update", sv, a)
			*sv = *want
			return nil
		})
		mustNoErr(t, err, "UpdateService")
		mustEqual(t, "returned service", got, want)
		stored, _ := s.GetService(t.Context(), a.ID)
		mustEqual(t, "stored service", stored, want)
		a = want
	})
	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		_, err := s.UpdateService(t.Context(), a.ID, func(sv *tokend.Service) error {
			sv.Name = "never"
			return errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want the update function's error unchanged", err)
		}
		stored, _ := s.GetService(t.Context(), a.ID)
		mustEqual(t, "stored service", stored, a)
	})
	t.Run("UpdateCannotChangeID", func(t *testing.T) {
		got, err := s.UpdateService(t.Context(), a.ID, func(sv *tokend.Service) error {
			sv.ID = b.ID
			sv.Name = "kept"
			return nil
		})
		mustNoErr(t, err, "UpdateService")
		if got.ID != a.ID {
			t.Errorf("returned id %d, want %d", got.ID, a.ID)
		}
		stored, _ := s.GetService(t.Context(), b.ID)
		mustEqual(t, "other service", stored, b)
		if stored, _ := s.GetService(t.Context(), a.ID); stored.Name != "kept" {
			t.Errorf("name %q, want the update written to the original record", stored.Name)
		}
	})
}

func testClients(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 11)
	other := mustService(t, s, 12)
	c1 := mustClient(t, s, svc.ID, 1_000_000_000_003)
	c2 := mustClient(t, s, svc.ID, 1_000_000_000_001)
	c3 := mustClient(t, s, svc.ID, 1_000_000_000_002)
	cOther := mustClient(t, s, other.ID, 1_000_000_000_009)

	t.Run("GetRoundTripsEveryField", func(t *testing.T) {
		got, err := s.GetClient(t.Context(), c1.ID)
		mustNoErr(t, err, "GetClient")
		mustEqual(t, "client", got, c1)
		got, err = s.GetClientByClientID(t.Context(), svc.ID, c1.ClientID)
		mustNoErr(t, err, "GetClientByClientID")
		mustEqual(t, "client", got, c1)
		got, err = s.GetClient(t.Context(), cOther.ID)
		mustNoErr(t, err, "GetClient in another service")
		mustEqual(t, "client", got, cOther)
	})
	t.Run("PublicClientRoundTrips", func(t *testing.T) {
		pc := &tokend.Client{ID: 1_000_000_000_050, ServiceID: other.ID, ClientID: "public", Name: "SPA",
			Type: tokend.ClientPublic, GrantTypes: []tokend.GrantType{}, Scopes: []string{}, RedirectURIs: []string{},
			CreatedAt: t0, UpdatedAt: t0}
		mustNoErr(t, s.CreateClient(t.Context(), pc), "CreateClient")
		got, err := s.GetClient(t.Context(), pc.ID)
		mustNoErr(t, err, "GetClient")
		mustEqual(t, "client", got, pc)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetClient(t.Context(), 77)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetClientByClientID(t.Context(), svc.ID, "nope")
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetClientByClientID(t.Context(), svc.ID, cOther.ClientID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.UpdateClient(t.Context(), 77, func(*tokend.Client) error { return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteClient(t.Context(), 77, t0, "gone"), tokend.ENOTFOUND, "")
	})
	t.Run("ErrConflictID", func(t *testing.T) {
		dup := *c1
		dup.ClientID = "fresh"
		wantCode(t, s.CreateClient(t.Context(), &dup), tokend.ECONFLICT, "id")
		dup.ServiceID = other.ID // ids are unique across services
		wantCode(t, s.CreateClient(t.Context(), &dup), tokend.ECONFLICT, "id")
	})
	t.Run("ErrConflictClientID", func(t *testing.T) {
		dup := *c1
		dup.ID = 1_000_000_000_100
		wantCode(t, s.CreateClient(t.Context(), &dup), tokend.ECONFLICT, "client_id")
		_, err := s.UpdateClient(t.Context(), c2.ID, func(c *tokend.Client) error {
			c.ClientID = c1.ClientID
			return nil
		})
		wantCode(t, err, tokend.ECONFLICT, "client_id")
		got, _ := s.GetClient(t.Context(), c2.ID)
		mustEqual(t, "client", got, c2)
	})
	t.Run("SameClientIDInAnotherService", func(t *testing.T) {
		dup := *c1
		dup.ID, dup.ServiceID = 1_000_000_000_101, other.ID
		mustNoErr(t, s.CreateClient(t.Context(), &dup), "CreateClient")
		got, err := s.GetClientByClientID(t.Context(), other.ID, c1.ClientID)
		mustNoErr(t, err, "GetClientByClientID")
		mustEqual(t, "client", got, &dup)
	})
	t.Run("ListOrderedByIDWithPaging", func(t *testing.T) {
		all, err := s.ListClients(t.Context(), tokend.ClientFilter{ServiceID: svc.ID})
		mustNoErr(t, err, "ListClients")
		mustEqual(t, "clients", all, []*tokend.Client{c2, c3, c1})
		page, err := s.ListClients(t.Context(), tokend.ClientFilter{ServiceID: svc.ID, Limit: 2})
		mustNoErr(t, err, "ListClients")
		mustEqual(t, "first page", page, []*tokend.Client{c2, c3})
		page, err = s.ListClients(t.Context(), tokend.ClientFilter{ServiceID: svc.ID, AfterID: c3.ID, Limit: 2})
		mustNoErr(t, err, "ListClients")
		mustEqual(t, "second page", page, []*tokend.Client{c1})
		page, err = s.ListClients(t.Context(), tokend.ClientFilter{ServiceID: svc.ID, AfterID: c1.ID, Limit: 2})
		mustNoErr(t, err, "ListClients")
		if len(page) != 0 {
			t.Fatalf("got %d clients after the last, want none", len(page))
		}
	})
	t.Run("UpdateWritesEveryField", func(t *testing.T) {
		want := &tokend.Client{
			ID: c3.ID, ServiceID: svc.ID, ClientID: "renamed-client", Name: "n", Type: tokend.ClientPublic,
			GrantTypes: []tokend.GrantType{tokend.GrantDeviceCode}, Scopes: []string{"email"},
			RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour),
		}
		got, err := s.UpdateClient(t.Context(), c3.ID, func(c *tokend.Client) error {
			mustEqual(t, "client seen by update", c, c3)
			*c = *want
			return nil
		})
		mustNoErr(t, err, "UpdateClient")
		mustEqual(t, "returned client", got, want)
		stored, _ := s.GetClient(t.Context(), c3.ID)
		mustEqual(t, "stored client", stored, want)
		if _, err := s.GetClientByClientID(t.Context(), svc.ID, c3.ClientID); tokend.ErrorCode(err) != tokend.ENOTFOUND {
			t.Errorf("old client_id still resolves: %v", err)
		}
		c3 = want
	})
	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		_, err := s.UpdateClient(t.Context(), c1.ID, func(c *tokend.Client) error {
			c.Name, c.Scopes = "never", nil
			return errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want the update function's error unchanged", err)
		}
		stored, _ := s.GetClient(t.Context(), c1.ID)
		mustEqual(t, "stored client", stored, c1)
	})
	t.Run("UpdateCannotMoveService", func(t *testing.T) {
		got, err := s.UpdateClient(t.Context(), c1.ID, func(c *tokend.Client) error {
			c.ServiceID, c.ID = other.ID, cOther.ID
			return nil
		})
		mustNoErr(t, err, "UpdateClient")
		if got.ServiceID != svc.ID || got.ID != c1.ID {
			t.Errorf("returned service %d id %d, want %d %d", got.ServiceID, got.ID, svc.ID, c1.ID)
		}
		stored, _ := s.GetClient(t.Context(), c1.ID)
		mustEqual(t, "stored client", stored, c1)
		stored, _ = s.GetClient(t.Context(), cOther.ID)
		mustEqual(t, "other client", stored, cOther)
	})
}

func testKeys(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 21)
	other := mustService(t, s, 22)
	n, err := s.CountKeys(t.Context())
	mustNoErr(t, err, "CountKeys")
	if n != 0 {
		t.Fatalf("empty store counts %d keys", n)
	}
	newKey := func(serviceID int64, expires time.Time) *tokend.Key {
		k := &tokend.Key{ServiceID: serviceID, Name: "key for " + t.Name(), Hash: newHash(),
			Permissions: []tokend.Permission{tokend.PermTokensRead, tokend.PermClientsWrite}, CreatedAt: t0, ExpiresAt: expires}
		mustNoErr(t, s.CreateKey(t.Context(), k), "CreateKey")
		if k.ID == 0 {
			t.Fatal("CreateKey left the id zero")
		}
		return k
	}
	org := newKey(0, time.Time{})
	k1 := newKey(svc.ID, t0.Add(time.Hour))
	k2 := newKey(other.ID, time.Time{})
	k3 := newKey(svc.ID, time.Time{})
	all := &tokend.Key{Name: "all", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
	mustNoErr(t, s.CreateKey(t.Context(), all), "CreateKey")

	t.Run("IDsAreDistinct", func(t *testing.T) {
		ids := []int64{org.ID, k1.ID, k2.ID, k3.ID, all.ID}
		sorted := slices.Sorted(slices.Values(ids))
		if len(slices.Compact(sorted)) != len(ids) {
			t.Fatalf("ids %v are not distinct", ids)
		}
	})
	t.Run("GetByHashRoundTripsEveryField", func(t *testing.T) {
		for _, k := range []*tokend.Key{org, k1, k2, all} {
			got, err := s.GetKeyByHash(t.Context(), k.Hash)
			mustNoErr(t, err, "GetKeyByHash")
			mustEqual(t, "key", got, k)
		}
	})
	t.Run("ListByServiceOrganizationAndAll", func(t *testing.T) {
		for _, c := range []struct {
			sid  int64
			want []*tokend.Key
		}{
			{svc.ID, sortedByID(k1, k3)},
			{other.ID, []*tokend.Key{k2}},
			{0, sortedByID(org, all)},
			{-1, sortedByID(org, k1, k2, k3, all)},
			{999, []*tokend.Key{}},
		} {
			got, err := s.ListKeys(t.Context(), c.sid)
			mustNoErr(t, err, "ListKeys %d", c.sid)
			mustEqual(t, "keys", got, c.want)
		}
	})
	t.Run("CountKeys", func(t *testing.T) {
		n, err := s.CountKeys(t.Context())
		mustNoErr(t, err, "CountKeys")
		if n != 5 {
			t.Fatalf("CountKeys = %d, want 5", n)
		}
	})
	t.Run("ErrConflictKey", func(t *testing.T) {
		dup := &tokend.Key{ServiceID: other.ID, Name: "dup", Permissions: []tokend.Permission{tokend.PermAll}, Hash: k1.Hash, CreatedAt: t0}
		wantCode(t, s.CreateKey(t.Context(), dup), tokend.ECONFLICT, "key")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetKeyByHash(t.Context(), newHash())
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteKey(t.Context(), 12345), tokend.ENOTFOUND, "")
	})
	t.Run("DeleteRemovesOnlyThatKey", func(t *testing.T) {
		mustNoErr(t, s.DeleteKey(t.Context(), k1.ID), "DeleteKey")
		_, err := s.GetKeyByHash(t.Context(), k1.Hash)
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteKey(t.Context(), k1.ID), tokend.ENOTFOUND, "")
		got, _ := s.ListKeys(t.Context(), svc.ID)
		mustEqual(t, "keys", got, []*tokend.Key{k3})
	})
}

func sortedByID(keys ...*tokend.Key) []*tokend.Key {
	return slices.SortedFunc(slices.Values(keys), func(a, b *tokend.Key) int { return cmp.Compare(a.ID, b.ID) })
}
