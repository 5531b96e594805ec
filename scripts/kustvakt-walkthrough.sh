#!/usr/bin/env bash
# The README's Kustvakt walk-through, with each answer checked: a user signs
# in to a third-party client; the service's first-party ("super") client
# lists the user's tokens and connected clients and revokes them.
# Run it against a fresh server:
# TOKEND_URL=http://127.0.0.1:8080 KEY=<org key> bash scripts/kustvakt-walkthrough.sh
set -euo pipefail
: "${TOKEND_URL:?set TOKEND_URL}" "${KEY:?set KEY to an organization key}"
auth="Authorization: Bearer $KEY"
fail() { echo "kustvakt-walkthrough: $*" >&2; exit 1; }
api() { curl -sS -f -X "$1" -H "$auth" ${3:+-d "$3"} "$TOKEND_URL$2" || fail "$1 $2 failed"; }

# A service whose dates show in Berlin time, its first-party client, a
# third-party client and a user of the built-in users table.
SID=$(api POST /v1/services '{"name":"korap","scopes_supported":["search","match_info"],
  "grant_types_supported":["PASSWORD","REFRESH_TOKEN"],"time_zone":"Europe/Berlin"}' | jq -er .id)
super=$(api POST "/v1/services/$SID/clients" '{"name":"Kalamar","first_party":true}')
SUPER=$(jq -er .client_id <<<"$super"); SUPER_SECRET=$(jq -er .client_secret <<<"$super")
app=$(api POST "/v1/services/$SID/clients" '{"name":"EasyPDF Exporter",
  "description":"EasyPDF is a tool for exporting data to PDF.","url":"https://www.easypdf.org/"}')
APP=$(jq -er .client_id <<<"$app"); APP_SECRET=$(jq -er .client_secret <<<"$app")
api POST "/v1/services/$SID/users" '{"username":"alice","password":"correct horse battery"}' >/dev/null

# Alice signs in to EasyPDF, twice.
for _ in 1 2; do
  curl -sSf -u "$APP:$APP_SECRET" -d grant_type=password -d username=alice \
    -d password='correct horse battery' -d 'scope=search match_info' "$TOKEND_URL/oauth/$SID/token" >/dev/null
done

# The super client lists alice's refresh tokens: its own credentials in the
# form, alice's in Authorization (here Basic user:password).
kv="$TOKEND_URL/api/v1.0/oauth2"
superform=(-d "super_client_id=$SUPER" --data-urlencode "super_client_secret=$SUPER_SECRET")
list=$(curl -sSf -u 'alice:correct horse battery' "${superform[@]}" -d token_type=refresh_token "$kv/token/list")
jq -e --arg app "$APP" 'length == 2 and .[0].client_id == $app and .[0].client_name == "EasyPDF Exporter"
  and (.[0].created_date | endswith("[Europe/Berlin]")) and (.[0].expires_in | type) == "number"
  and .[0].scope == ["search", "match_info"] and .[0].scopes == .[0].scope' <<<"$list" >/dev/null || fail "token list: $list"

# The connected apps: EasyPDF (never the super client itself).
clients=$(curl -sSf -u 'alice:correct horse battery' "${superform[@]}" -d filter_by=authorized_only "$kv/client/list")
jq -e --arg app "$APP" 'length == 1 and .[0].client_id == $app' <<<"$clients" >/dev/null || fail "client list: $clients"

# Revoke one token by what the list shows ("token" is its hash), then the
# rest of EasyPDF's.
TOKEN=$(jq -er '.[0].token' <<<"$list")
curl -sSf -u 'alice:correct horse battery' "${superform[@]}" --data-urlencode "token=$TOKEN" "$kv/revoke/super" >/dev/null || fail "revoke/super"
curl -sSf -u 'alice:correct horse battery' "${superform[@]}" -d token_type=refresh_token "$kv/token/list" \
  | jq -e 'length == 1' >/dev/null || fail "list after revoke/super"
curl -sSf -u 'alice:correct horse battery' "${superform[@]}" -d "client_id=$APP" "$kv/revoke/super/all" >/dev/null || fail "revoke/super/all"
curl -sSf -u 'alice:correct horse battery' "${superform[@]}" -d token_type=access_token "$kv/token/list" \
  | jq -e 'length == 0' >/dev/null || fail "list after revoke/super/all"

# A client revokes its own token, RFC 7009 style.
AT=$(curl -sSf -u "$APP:$APP_SECRET" -d grant_type=password -d username=alice \
  -d password='correct horse battery' "$TOKEND_URL/oauth/$SID/token" | jq -er .access_token)
curl -sSf -d "client_id=$APP" --data-urlencode "client_secret=$APP_SECRET" --data-urlencode "token=$AT" "$kv/revoke" >/dev/null || fail "revoke"

# Errors are Kustvakt's: a bad token_type is 400 invalid_request; a client
# that is not first-party is 401 unauthorized_client, with a challenge.
bad=$(curl -sS -u 'alice:correct horse battery' "${superform[@]}" -d token_type=id_token "$kv/token/list")
jq -e '.error == "invalid_request"' <<<"$bad" >/dev/null || fail "bad token_type: $bad"
hdr=$(curl -sS -o /dev/null -D - -u 'alice:correct horse battery' -d "super_client_id=$APP" \
  --data-urlencode "super_client_secret=$APP_SECRET" -d token_type=access_token "$kv/token/list")
grep -q '^HTTP/1.1 401' <<<"$hdr" && grep -qi '^WWW-Authenticate:' <<<"$hdr" || fail "not first-party: $hdr"
echo "kustvakt-walkthrough: ok"
