#!/bin/bash
# t72: bad request bodies get a clear 4xx with a stable error code and write
# nothing: malformed JSON, a non-object, duplicate keys, unknown fields,
# wrong types, missing fields, a wrong content type, oversized bodies (413,
# by Content-Length and by chunked upload), bad query parameters.  Then the
# good request is accepted, records the token's user as actor, and verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
tok=$(make_token root-admin admin)
printf 'body_max: 4096\nverify_every: 0\n' >"$T/http.yaml"
http_start --config "$T/http.yaml"
A=(-H "Authorization: Bearer $tok")
J=(-H 'Content-Type: application/json')
size() { "$EVIDENT" log --json | wc -l; }
before=$(size)

post() { req POST /api/entries "${A[@]}" "${J[@]}" --data-binary "$1"; }
t_is "malformed JSON: 400" 400 "$(post '{"kind":')"
t_is "  code bad_json" bad_json "$(jget .error.code)"
t_is "a JSON array: 400" 400 "$(post '[1,2]')"
t_is "  code bad_json" bad_json "$(jget .error.code)"
t_is "duplicate keys: 400" 400 "$(post '{"kind":"a.b","kind":"c.d","subject":"s","body":{}}')"
t_is "unknown field: 400" 400 "$(post '{"kind":"note.added","subject":"s","body":{},"actor":"mallory"}')"
t_is "  code unknown_field" unknown_field "$(jget .error.code)"
t_like "  message names the field" 'actor' "$(jget .error.message)"
t_is "missing field: 400" 400 "$(post '{"kind":"note.added","body":{}}')"
t_is "  code missing_field" missing_field "$(jget .error.code)"
t_is "wrong type: 400" 400 "$(post '{"kind":"note.added","subject":"s","body":"text"}')"
t_is "  code bad_value" bad_value "$(jget .error.code)"
t_is "bad kind: 400" 400 "$(post '{"kind":"Not A Kind","subject":"s","body":{}}')"
t_is "reserved kind (user.*): 400" 400 "$(post '{"kind":"user.added","subject":"s","body":{}}')"
t_is "reserved kind (checkpoint): 400" 400 "$(post '{"kind":"checkpoint","subject":"s","body":{}}')"
t_is "invalid UTF-8: 400" 400 "$(post $'{"kind":"a.b","subject":"\xff","body":{}}')"
code=$(req POST /api/entries "${A[@]}" -H 'Content-Type: text/plain' --data-binary '{"kind":"a.b","subject":"s","body":{}}')
t_is "wrong content type: 415" 415 "$code"
head -c 5000 /dev/zero | tr '\0' 'x' >"$T/big"
code=$(req POST /api/entries "${A[@]}" "${J[@]}" --data-binary @"$T/big")
t_is "body over body_max: 413" 413 "$code"
t_is "  code too_large" too_large "$(jget .error.code)"
code=$(req POST /api/entries "${A[@]}" "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big")
t_is "chunked body over body_max: 413" 413 "$code"
code=$(req POST /api/incidents "${A[@]}" "${J[@]}" --data-binary '{"title":"x","severity":"high"}')
t_is "incident open with an unknown field: 400" 400 "$code"
code=$(req POST /api/incidents "${A[@]}" "${J[@]}" --data-binary '{"title":"x","channel":"pigeon","reported_by":"z"}')
t_is "incident open with a bad enum value: 400" 400 "$code"
code=$(req POST /api/alerts/1/ack "${A[@]}" "${J[@]}" --data-binary '{"disposition":"maybe","note":"n"}')
t_is "alert ack with a bad disposition: 400" 400 "$code"
t_is "nothing was written by any refused request" "$before" "$(size)"

code=$(req GET '/api/entries?bogus=1' "${A[@]}")
t_is "unknown query parameter: 400" 400 "$code"
t_is "  code unknown_parameter" unknown_parameter "$(jget .error.code)"
code=$(req GET '/api/entries?limit=ten' "${A[@]}")
t_is "non-numeric limit: 400" 400 "$code"
code=$(req GET '/api/entries/0' "${A[@]}")
t_is "seq 0: 400" 400 "$code"
code=$(req GET '/api/entries/999' "${A[@]}")
t_is "absent seq: 404" 404 "$code"
t_is "  code not_found" not_found "$(jget .error.code)"

code=$(post '{"kind":"note.added","subject":"ops","body":{"text":"hello <b>"}}')
t_is "a good append: 201" 201 "$code"
seq=$(jget .seq)
t_is "the append is the next seq" "$((before + 1))" "$seq"
code=$(req GET "/api/entries/$seq?proof=1" "${A[@]}")
t_is "entry with proof: 200" 200 "$code"
t_is "the actor is the token's user" root-admin "$(jget .actor)"
t_is "the proof is for the current tree" "$seq" "$(jget .proof.tree_size)"
code=$(req GET "/api/entries?kind=note.&limit=5" "${A[@]}")
t_is "filtered list: 200" 200 "$code"
t_is "filtered by kind prefix" note.added "$(jget .entries.0.kind)"
code=$(req POST /api/checkpoints "${A[@]}")
t_is "checkpoint: 201" 201 "$code"
code=$(req GET "/api/proofs/consistency?size1=1&size2=$seq" "${A[@]}")
t_is "consistency proof: 200" 200 "$code"
code=$(req GET "/api/proofs/inclusion?seq=1&size=$seq" "${A[@]}")
t_is "inclusion proof: 200" 200 "$code"
code=$(req GET /api/verify "${A[@]}")
t_is "verify status before any run" never-run "$(jget .status)"
code=$(req POST /api/verify "${A[@]}")
t_is "POST /api/verify runs it" ok "$(jget .status)"
req GET /api/verify "${A[@]}" >/dev/null
t_is "GET /api/verify serves the cached result" ok "$(jget .status)"
t_ok "the ledger verifies after all that" "$EVIDENT" verify
http_stop
t_done
