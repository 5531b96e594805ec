package storetest

import (
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// mustUser stores a user with every field set.
func mustUser(tb testing.TB, s tokend.Store, serviceID int64, username string) *tokend.User {
	tb.Helper()
	u := &tokend.User{
		ServiceID:    serviceID,
		Username:     username,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + username,
		AccountID:    "acct-" + username,
		Roles:        []string{"admin", "user"},
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(time.Second),
	}
	mustNoErr(tb, s.CreateUser(tb.Context(), u), "CreateUser %s", username)
	if u.ID == 0 {
		tb.Fatal("CreateUser left the id zero")
	}
	return u
}

func testUsers(t *testing.T, s tokend.Store) {
	svc := mustService(t, s, 151)
	other := mustService(t, s, 152)
	alice := mustUser(t, s, svc.ID, "alice")
	bob := mustUser(t, s, svc.ID, "bob")
	otherAlice := mustUser(t, s, other.ID, "alice") // names are unique per service only

	t.Run("GetRoundTripsEveryField", func(t *testing.T) {
		for _, u := range []*tokend.User{alice, bob, otherAlice} {
			got, err := s.GetUser(t.Context(), u.ServiceID, u.Username)
			mustNoErr(t, err, "GetUser")
			mustEqual(t, "user", got, u)
		}
	})
	t.Run("MinimalUserRoundTrips", func(t *testing.T) {
		u := &tokend.User{ServiceID: other.ID, Username: "min", PasswordHash: "h", CreatedAt: t0, UpdatedAt: t0}
		mustNoErr(t, s.CreateUser(t.Context(), u), "CreateUser")
		got, err := s.GetUser(t.Context(), other.ID, "min")
		mustNoErr(t, err, "GetUser")
		mustEqual(t, "user", got, u)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetUser(t.Context(), svc.ID, "nobody")
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.GetUser(t.Context(), 999, "alice")
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = s.UpdateUser(t.Context(), svc.ID, "nobody", func(*tokend.User) error { return nil })
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteUser(t.Context(), svc.ID, "nobody"), tokend.ENOTFOUND, "")
		u := &tokend.User{ServiceID: 999, Username: "x", CreatedAt: t0, UpdatedAt: t0}
		wantCode(t, s.CreateUser(t.Context(), u), tokend.ENOTFOUND, "")
	})
	t.Run("ErrConflictUsername", func(t *testing.T) {
		dup := &tokend.User{ServiceID: svc.ID, Username: "alice", PasswordHash: "other", CreatedAt: t0, UpdatedAt: t0}
		wantCode(t, s.CreateUser(t.Context(), dup), tokend.ECONFLICT, "username")
		got, _ := s.GetUser(t.Context(), svc.ID, "alice")
		mustEqual(t, "user", got, alice)
	})
	t.Run("ListOrderedByIDWithPaging", func(t *testing.T) {
		svc := mustService(t, s, 153)
		var all []*tokend.User
		// Names out of id order, so that ordering by name would show.
		for _, name := range []string{"zed", "amy", "kim", "bea", "ola"} {
			all = append(all, mustUser(t, s, svc.ID, name))
		}
		mustUser(t, s, other.ID, "zz-other")
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("ids %d, %d not increasing in creation order", all[i-1].ID, all[i].ID)
			}
		}
		got, err := s.ListUsers(t.Context(), svc.ID, 0, 100)
		mustNoErr(t, err, "ListUsers")
		mustEqual(t, "all users", got, all)
		var paged []*tokend.User
		after := int64(0)
		for range len(all) {
			page, err := s.ListUsers(t.Context(), svc.ID, after, 2)
			mustNoErr(t, err, "ListUsers after %d", after)
			if len(page) > 2 {
				t.Fatalf("page of %d users, want at most 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].ID
		}
		mustEqual(t, "paged users", paged, all)
		got, err = s.ListUsers(t.Context(), 999, 0, 10)
		mustNoErr(t, err, "ListUsers of an unknown service")
		if len(got) != 0 {
			t.Fatalf("listed %d users of an unknown service", len(got))
		}
	})
	t.Run("UpdateWritesEveryField", func(t *testing.T) {
		want := &tokend.User{ID: bob.ID, ServiceID: svc.ID, Username: "bob", PasswordHash: "new hash",
			AccountID: "", Roles: []string{"viewer"}, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(time.Hour)}
		got, err := s.UpdateUser(t.Context(), svc.ID, "bob", func(u *tokend.User) error {
			mustEqual(t, "user seen by update", u, bob)
			*u = *want
			return nil
		})
		mustNoErr(t, err, "UpdateUser")
		mustEqual(t, "returned user", got, want)
		stored, _ := s.GetUser(t.Context(), svc.ID, "bob")
		mustEqual(t, "stored user", stored, want)
		bob = want
	})
	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		_, err := s.UpdateUser(t.Context(), svc.ID, "alice", func(u *tokend.User) error {
			u.PasswordHash, u.Roles = "never", nil
			return errAbort
		})
		if err != errAbort {
			t.Fatalf("got %v, want the update function's error unchanged", err)
		}
		stored, _ := s.GetUser(t.Context(), svc.ID, "alice")
		mustEqual(t, "stored user", stored, alice)
	})
	t.Run("UpdateCannotChangeIdentity", func(t *testing.T) {
		got, err := s.UpdateUser(t.Context(), svc.ID, "alice", func(u *tokend.User) error {
			u.ID, u.ServiceID, u.Username = otherAlice.ID, other.ID, "mallory"
			u.AccountID = "kept"
			return nil
		})
		mustNoErr(t, err, "UpdateUser")
		if got.ID != alice.ID || got.ServiceID != svc.ID || got.Username != "alice" {
			t.Errorf("returned %d/%d/%q, want %d/%d/alice", got.ID, got.ServiceID, got.Username, alice.ID, svc.ID)
		}
		want := *alice
		want.AccountID = "kept"
		stored, err := s.GetUser(t.Context(), svc.ID, "alice")
		mustNoErr(t, err, "GetUser")
		mustEqual(t, "stored user", stored, &want)
		_, err = s.GetUser(t.Context(), svc.ID, "mallory")
		wantCode(t, err, tokend.ENOTFOUND, "")
		stored, _ = s.GetUser(t.Context(), other.ID, "alice")
		mustEqual(t, "other service's user", stored, otherAlice)
		alice = &want
	})
	t.Run("DeleteRemovesOnlyThatUser", func(t *testing.T) {
		mustNoErr(t, s.DeleteUser(t.Context(), svc.ID, "alice"), "DeleteUser")
		_, err := s.GetUser(t.Context(), svc.ID, "alice")
		wantCode(t, err, tokend.ENOTFOUND, "")
		wantCode(t, s.DeleteUser(t.Context(), svc.ID, "alice"), tokend.ENOTFOUND, "")
		got, err := s.GetUser(t.Context(), other.ID, "alice")
		mustNoErr(t, err, "GetUser")
		mustEqual(t, "other service's alice", got, otherAlice)
		list, err := s.ListUsers(t.Context(), svc.ID, 0, 10)
		mustNoErr(t, err, "ListUsers")
		mustEqual(t, "users", list, []*tokend.User{bob})
	})
	// Beyond the contract's words, as for tokens: ids are ListUsers
	// cursors, and a page cursor naming a deleted user must not come to
	// name a new one.
	t.Run("IDsAreNotReused", func(t *testing.T) {
		newest := mustUser(t, s, svc.ID, "newest")
		mustNoErr(t, s.DeleteUser(t.Context(), svc.ID, "newest"), "DeleteUser")
		if again := mustUser(t, s, svc.ID, "again"); again.ID <= newest.ID {
			t.Errorf("new user got id %d after %d was deleted, want a greater one", again.ID, newest.ID)
		}
	})
}
