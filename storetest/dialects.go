package storetest

import (
	"testing"

	"github.com/tokend/tokend"
)

// testClientsByClientID checks the lookup the dialects use to find a
// client's service from its client_id alone.
func testClientsByClientID(t *testing.T, s tokend.Store) {
	a := mustService(t, s, 21)
	b := mustService(t, s, 22)
	inB := mustClient(t, s, b.ID, 1_000_000_000_202)
	inA := mustClient(t, s, a.ID, 1_000_000_000_201)
	twin := *inA
	twin.ID, twin.ServiceID = 1_000_000_000_203, b.ID
	mustNoErr(t, s.CreateClient(t.Context(), &twin), "CreateClient")

	t.Run("OneService", func(t *testing.T) {
		got, err := s.ClientsByClientID(t.Context(), inB.ClientID)
		mustNoErr(t, err, "ClientsByClientID")
		mustEqual(t, "clients", got, []*tokend.Client{inB})
	})
	t.Run("SeveralServicesOrderedByID", func(t *testing.T) {
		got, err := s.ClientsByClientID(t.Context(), inA.ClientID)
		mustNoErr(t, err, "ClientsByClientID")
		mustEqual(t, "clients", got, []*tokend.Client{inA, &twin})
	})
	t.Run("NoneIsEmptyNotAnError", func(t *testing.T) {
		got, err := s.ClientsByClientID(t.Context(), "nobody")
		mustNoErr(t, err, "ClientsByClientID")
		if len(got) != 0 {
			t.Fatalf("got %d clients for an unknown client_id", len(got))
		}
	})
	t.Run("GoneWithTheirService", func(t *testing.T) {
		mustNoErr(t, s.DeleteService(t.Context(), b.ID), "DeleteService")
		got, err := s.ClientsByClientID(t.Context(), inA.ClientID)
		mustNoErr(t, err, "ClientsByClientID")
		mustEqual(t, "clients", got, []*tokend.Client{inA})
	})
}
