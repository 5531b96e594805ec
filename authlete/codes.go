package authlete

import (
	"fmt"
	"net/http"

	"github.com/tokend/tokend"
)

// Result codes follow Authlete's shape, "A" and six digits: three for the
// route (below) and three for the outcome (the suffixes after them). The
// route is in the code so that a code quoted alone says where it came from.
// docs/authlete.md lists them all.
const (
	apiTokenList             = "101"
	apiTokenCreate           = "102"
	apiTokenUpdate           = "103"
	apiTokenDelete           = "104"
	apiTokenRevoke           = "105"
	apiTokenBatch            = "106"
	apiTokenBatchStatus      = "107"
	apiAuthList              = "201"
	apiAuthUpdate            = "202"
	apiAuthDelete            = "203"
	apiScopesGet             = "204"
	apiScopesDelete          = "205"
	apiIntrospection         = "301"
	apiStandardIntrospection = "302"
	apiRevocation            = "303"
	apiToken                 = "304"
)

// Outcome suffixes. 1xx: done; 2xx: the request is wrong; 3xx: what it
// names does not exist; 4xx: credentials; 5xx: tokend's side; 6xx: an
// outcome a protocol helper reports with an action (HTTP 200).
const (
	suffixOK = "101"

	suffixDryRun = "102" // a batch validated, nothing written

	suffixRateLimited = "402" // 429: too many failed authentications; Retry-After says when to try again

	suffixMissingToken   = "601" // BAD_REQUEST: the request carried no token
	suffixUnknownToken   = "602" // UNAUTHORIZED: no such token (or revoked, or another service's)
	suffixExpiredToken   = "603" // UNAUTHORIZED: expired
	suffixCertificate    = "604" // UNAUTHORIZED: certificate binding not met
	suffixDPoP           = "605" // UNAUTHORIZED: DPoP-bound; tokend checks no DPoP proof here
	suffixScope          = "606" // FORBIDDEN: a required scope is missing
	suffixSubject        = "607" // FORBIDDEN: another subject's token
	suffixInvalidClient  = "611" // INVALID_CLIENT: client authentication failed
	suffixProtocolBad    = "612" // BAD_REQUEST: the OAuth request is wrong (responseContent says how)
	suffixProtocolServer = "613" // INTERNAL_SERVER_ERROR: the store failed while answering
)

// status is what a domain error code becomes on this surface.
type status struct {
	status int
	suffix string
}

// statuses is the one table from domain codes to HTTP statuses and result
// code suffixes. Authlete's SDKs read an error body as a ResultError on 400,
// 401, 403 and 500, so a conflict (a token value already stored) is a 400
// here, not the 409 of the native API.
var statuses = map[string]status{
	tokend.EINVALID:      {http.StatusBadRequest, "201"},
	tokend.ECONFLICT:     {http.StatusBadRequest, "202"},
	tokend.EUNSUPPORTED:  {http.StatusBadRequest, "203"},
	tokend.EGRANT:        {http.StatusBadRequest, "204"},
	tokend.ENOTFOUND:     {http.StatusNotFound, "301"},
	tokend.EUNAUTHORIZED: {http.StatusUnauthorized, "401"},
	tokend.EFORBIDDEN:    {http.StatusForbidden, "403"},
	tokend.EUNAVAILABLE:  {http.StatusServiceUnavailable, "501"},
	tokend.EINTERNAL:     {http.StatusInternalServerError, "502"},
}

func statusOf(err error) status {
	if st, ok := statuses[tokend.ErrorCode(err)]; ok {
		return st
	}
	return statuses[tokend.EINTERNAL]
}

func resultCode(api, suffix string) string { return "A" + api + suffix }

// wireFields spells the core's field names as Authlete's requests do, so
// that an error names a field the caller sent.
var wireFields = map[string]string{
	"grant_type":               "grantType",
	"client":                   "clientId",
	"client_id":                "clientId",
	"access_token":             "accessToken",
	"refresh_token":            "refreshToken",
	"access_token_hash":        "accessTokenHash",
	"refresh_token_hash":       "refreshTokenIdentifier",
	"access_token_ttl":         "accessTokenDuration",
	"refresh_token_ttl":        "refreshTokenDuration",
	"refresh_scopes":           "refreshTokenScopes",
	"certificate_thumbprint":   "certificateThumbprint",
	"dpop_key_thumbprint":      "dpopKeyThumbprint",
	"authorization_details":    "authorizationDetails",
	"session_id":               "sessionId",
	"access_token_expires_at":  "accessTokenExpiresAt",
	"refresh_token_expires_at": "refreshTokenExpiresAt",
	"page_size":                "end",
	"offset":                   "start",
	"status":                   "tokenStatus",
}

func wireField(f string) string {
	if w, ok := wireFields[f]; ok {
		return w
	}
	return f
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
