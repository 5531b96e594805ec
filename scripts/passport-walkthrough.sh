#!/usr/bin/env bash
# The README's Passport walk-through, with each answer checked: an auditor
# client gets a token with Passport's list scope, pages through the tokens
# with a snapshot while another token is issued, reads one, revokes one.
# Run it against a fresh server:
# TOKEND_URL=http://127.0.0.1:8080 KEY=<org key> bash scripts/passport-walkthrough.sh
set -euo pipefail
: "${TOKEND_URL:?set TOKEND_URL}" "${KEY:?set KEY to an organization key}"
auth="Authorization: Bearer $KEY"
fail() { echo "passport-walkthrough: $*" >&2; exit 1; }
api() { curl -sS -f -X "$1" -H "$auth" ${3:+-d "$3"} "$TOKEND_URL$2" || fail "$1 $2 failed"; }

# A service with Passport's scopes, and an auditor client allowed them.
SCOPES='["iam.oauth.tokens.list.get","iam.oauth.tokens.get","iam.oauth.tokens.delete"]'
SID=$(api POST /v1/services "{\"name\":\"iam\",\"scopes_supported\":$SCOPES}" | jq -er .id)
client=$(api POST "/v1/services/$SID/clients" "{\"name\":\"auditor\",\"grant_types\":[\"CLIENT_CREDENTIALS\"],\"scopes\":$SCOPES}")
CID=$(jq -er .client_id <<<"$client"); SECRET=$(jq -er .client_secret <<<"$client")

# The auditor's token from tokend's own token endpoint, with the list scope.
AT=$(curl -sSf -u "$CID:$SECRET" -d grant_type=client_credentials \
  -d scope="iam.oauth.tokens.list.get iam.oauth.tokens.get iam.oauth.tokens.delete" \
  "$TOKEND_URL/oauth/$SID/token" | jq -er .access_token)

# Passport's own token request works too (JSON body); three more tokens.
issue() {
  curl -sSf -H 'Content-Type: application/json' "$TOKEND_URL/v1/iam/oauth/tokens" \
    -d "{\"client_id\":\"$CID\",\"client_secret\":\"$SECRET\",\"grant_type\":\"client_credentials\",\"scope\":\"iam.oauth.tokens.get\"}"
}
for _ in 1 2 3; do TOKEN_ID=$(issue | jq -er .token_id); done
sleep 1.1 # a new snapshot is taken a second back (docs/passport.md)

# Page 1 of 2: four tokens; the answer carries the snapshot.
list="$TOKEND_URL/v1/iam/oauth/tokens"
p1=$(curl -sSf -H "Authorization: Bearer $AT" "$list?page_params.page_size=2&order_params.order_key=created_at&order_params.order_direction=DESC")
jq -e '.pagination_info.total_elements == 4 and .pagination_info.total_pages == 2 and (.tokens | length) == 2
  and .tokens[0].grant_flow == "GRANT_FLOW_CLIENT_CREDENTIALS" and .tokens[0].status == "TOKEN_STATUS_ACTIVE"' <<<"$p1" >/dev/null || fail "page 1: $p1"
SECS=$(jq -er .pagination_info.first_request_timestamp.seconds <<<"$p1")
NANOS=$(jq -er .pagination_info.first_request_timestamp.nanos <<<"$p1")

# A token issued between the pages is not in the snapshot: page 2 still
# counts four, and the four pages' tokens are all different.
issue >/dev/null
sleep 1.1
p2=$(curl -sSf -H "Authorization: Bearer $AT" "$list?page_params.page_size=2&page_params.page_number=2&page_params.first_request_timestamp.seconds=$SECS&page_params.first_request_timestamp.nanos=$NANOS")
jq -e --argjson p1 "$p1" '.pagination_info.total_elements == 4 and .pagination_info.current_page == 2 and (.tokens | length) == 2
  and ([.tokens[].token_id] - [$p1.tokens[].token_id] | length) == 2' <<<"$p2" >/dev/null || fail "page 2: $p2"
# A new snapshot sees five.
curl -sSf -H "Authorization: Bearer $AT" "$list" | jq -e '.pagination_info.total_elements == 5' >/dev/null || fail "new snapshot"

# Bad parameters are a 400 naming them, in the gateway's error shape.
bad=$(curl -sS -H "Authorization: Bearer $AT" "$list?page_params.page_size=1000")
jq -e '.code == 3 and (.message | startswith("page_params.page_size"))' <<<"$bad" >/dev/null || fail "bad page size: $bad"

# One token by id, then revoked; revoking again is a conflict.
curl -sSf -H "Authorization: Bearer $AT" "$list/$TOKEN_ID" | jq -e --arg id "$TOKEN_ID" '.token_id == $id' >/dev/null || fail "get"
curl -sSf -X DELETE -H "Authorization: Bearer $AT" "$list/$TOKEN_ID" >/dev/null || fail "delete"
status=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $AT" "$list/$TOKEN_ID")
[[ $status == 409 ]] || fail "second delete: $status"

# A token without the list scope is refused with 401.
NOSCOPE=$(issue | jq -er .access_token)
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NOSCOPE" "$list")
[[ $status == 401 ]] || fail "token without the scope: $status"
echo "passport-walkthrough: ok"
