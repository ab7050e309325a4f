/*
 * auth.c - users, roles, passwords, API tokens, sessions and the login rate
 * limiter.
 *
 * Credentials live in three tables of the store that are neither ledger nor
 * projection (a rebuild never touches them, an evidence pack never carries
 * them): http_users (scrypt hash and salt), http_tokens (SHA-256 of the
 * secret), http_sessions (SHA-256 of the cookie value, CSRF token, expiry).
 * Every change a person makes to users or tokens is also a ledger entry with
 * the facts only, appended in the same transaction as the row change.
 *
 * Never: log or return a secret, compare secrets with memcmp, or build SQL
 * from input (prepared statements only).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

const char *const ev_roles[] = { "viewer", "monitoring", "incident-manager", "responder",
	"compliance", "continuity", "admin", NULL };

#define SALT_LEN 16
#define HASH_LEN 32
#define SCRYPT_N 32768u
#define SCRYPT_R 8u
#define SCRYPT_P 1u

unsigned
ev_role_bit(const char *role)
{
	for (unsigned i = 0; role && ev_roles[i]; i++)
		if (strcmp(role, ev_roles[i]) == 0)
			return 1u << i;
	return 0;
}

int
ev_user_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > EV_USER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS http_users("
	" name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,"
	" n INTEGER NOT NULL, r INTEGER NOT NULL, p INTEGER NOT NULL,"
	" one_time INTEGER NOT NULL, created_us INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS http_tokens("
	" id TEXT PRIMARY KEY, user TEXT NOT NULL, hash BLOB NOT NULL,"
	" created_us INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS http_sessions("
	" id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,"
	" created_us INTEGER NOT NULL, expires_us INTEGER NOT NULL, must_change INTEGER NOT NULL);";

int
ev_auth_setup(struct ev_ledger *l, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(ev_ledger_db(l), schema, NULL, NULL, &msg) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "credential store: %s", msg ? msg : "cannot create tables");
		sqlite3_free(msg);
		return EV_EIO;
	}
	return EV_OK;
}

/* ---- small helpers ---- */

void
ev_auth_sha256_hex(const void *s, size_t n, char out[65])
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	SHA256(s, n, h);
	ev_hex_encode(h, sizeof(h), out);
}

int
ev_auth_random_hex(size_t n, char *out)
{
	uint8_t b[64];

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return -1;
	ev_hex_encode(b, n, out);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

/* base64url without padding of n random bytes. */
static int
random_b64url(size_t n, char *out, size_t outlen)
{
	uint8_t b[48];
	char tmp[80];
	size_t j = 0;

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return -1;
	ev_b64_encode(b, n, tmp);
	OPENSSL_cleanse(b, sizeof(b));
	for (size_t i = 0; tmp[i] && tmp[i] != '=' && j + 1 < outlen; i++)
		out[j++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	out[j] = '\0';
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

static int
scrypt_hash(const char *pw, const uint8_t *salt, uint64_t n, uint32_t r, uint32_t p,
    uint8_t out[HASH_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t maxmem = 256u << 20;
	OSSL_PARAM params[7];
	int ok = 0;

	if (ctx) {
		params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw,
		    strlen(pw));
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
		    SALT_LEN);
		params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
		params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
		params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
		params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
		params[6] = OSSL_PARAM_construct_end();
		ok = EVP_KDF_derive(ctx, out, HASH_LEN, params) == 1;
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

static int
prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct ev_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(db));
	return EV_OK;
}

static int
append_fact(struct ev_ledger *l, const char *kind, const char *subject, const char *actor,
    json_t *body, struct ev_err *err)
{
	char *text = ev_json_dump(body);
	struct ev_entry_in in = { kind, subject, actor, text, 0 };
	int rc = ev_ledger_append(l, &in, 1, NULL, err);

	free(text);
	json_decref(body);
	return rc;
}

/* 1 when the user exists (role copied), 0 when not, <0 on error. */
static int
user_role(struct ev_ledger *l, const char *name, char role[32], struct ev_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (prep(ev_ledger_db(l), "SELECT role FROM http_users WHERE name = ?1", &st, err))
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (role)
			snprintf(role, 32, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
store_password(struct ev_ledger *l, const char *name, const char *role, const char *pw,
    int one_time, int insert, struct ev_err *err)
{
	uint8_t salt[SALT_LEN], hash[HASH_LEN];
	sqlite3_stmt *st = NULL;
	int rc;

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    scrypt_hash(pw, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, hash) != 0)
		return ev_errf(err, EV_EIO, "scrypt failed");
	rc = prep(ev_ledger_db(l),
	    insert ? "INSERT INTO http_users(name, role, salt, hash, n, r, p, one_time, created_us)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		   : "UPDATE http_users SET salt = ?3, hash = ?4, n = ?5, r = ?6, p = ?7,"
		     " one_time = ?8 WHERE name = ?1",
	    &st, err);
	if (rc != EV_OK)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (insert)
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, salt, SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, SCRYPT_N);
	sqlite3_bind_int64(st, 6, SCRYPT_R);
	sqlite3_bind_int64(st, 7, SCRYPT_P);
	sqlite3_bind_int(st, 8, one_time);
	if (insert)
		sqlite3_bind_int64(st, 9, ev_time_now_us());
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

static int
onetime_password(char pw_out[EV_ONETIME_PW_LEN + 1], struct ev_err *err)
{
	/* 18 random bytes: 24 base64url characters, 144 bits. */
	if (random_b64url(18, pw_out, EV_ONETIME_PW_LEN + 1) != 0)
		return ev_errf(err, EV_EIO, "no randomness");
	return EV_OK;
}

int
ev_user_add(struct ev_ledger *l, const char *name, const char *role, const char *actor,
    char pw_out[EV_ONETIME_PW_LEN + 1], struct ev_err *err)
{
	int rc;

	if (!ev_user_name_ok(name))
		return ev_errf(err, EV_EINVAL, "user name must be 1 to %d of a-z 0-9 . _ -",
		    EV_USER_NAME_MAX);
	if (!ev_role_bit(role))
		return ev_errf(err, EV_EINVAL, "unknown role '%s' (viewer, monitoring, "
		    "incident-manager, responder, compliance, continuity, admin)", role ? role : "");
	if ((rc = ev_auth_setup(l, err)) != EV_OK || (rc = onetime_password(pw_out, err)) != EV_OK)
		return rc;
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	rc = user_role(l, name, NULL, err);
	if (rc != 0) {
		rc = rc > 0 ? ev_errf(err, EV_EEXIST, "user %s already exists", name) : EV_EIO;
		goto fail;
	}
	if ((rc = store_password(l, name, role, pw_out, 1, 1, err)) != EV_OK)
		goto fail;
	{
		char subject[EV_USER_NAME_MAX + 8];
		snprintf(subject, sizeof(subject), "user:%s", name);
		rc = append_fact(l, "user.added", subject, actor,
		    json_pack("{s:s,s:s}", "name", name, "role", role), err);
	}
	if (rc != EV_OK)
		goto fail;
	return ev_ledger_commit(l, err);
fail:
	ev_ledger_rollback(l);
	OPENSSL_cleanse(pw_out, EV_ONETIME_PW_LEN + 1);
	return rc;
}

int
ev_user_set_role(struct ev_ledger *l, const char *name, const char *role, const char *actor,
    struct ev_err *err)
{
	char old[32], subject[EV_USER_NAME_MAX + 8];
	sqlite3_stmt *st = NULL;
	int rc;

	if (!ev_role_bit(role))
		return ev_errf(err, EV_EINVAL, "unknown role '%s'", role ? role : "");
	if ((rc = ev_auth_setup(l, err)) != EV_OK || (rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	rc = user_role(l, name, old, err);
	if (rc <= 0) {
		rc = rc == 0 ? ev_errf(err, EV_ENOTFOUND, "no user %s", name) : EV_EIO;
		goto fail;
	}
	if ((rc = prep(ev_ledger_db(l), "UPDATE http_users SET role = ?2 WHERE name = ?1", &st,
		 err)) != EV_OK)
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	if (rc != EV_OK)
		goto fail;
	snprintf(subject, sizeof(subject), "user:%s", name);
	if ((rc = append_fact(l, "user.role_changed", subject, actor,
		 json_pack("{s:s,s:s,s:s}", "name", name, "from", old, "role", role), err)) != EV_OK)
		goto fail;
	return ev_ledger_commit(l, err);
fail:
	ev_ledger_rollback(l);
	return rc;
}

int
ev_user_set_password(struct ev_ledger *l, const char *name, const char *pw, const char *actor,
    char pw_out[EV_ONETIME_PW_LEN + 1], struct ev_err *err)
{
	char subject[EV_USER_NAME_MAX + 8];
	int rc, one_time = pw == NULL;

	if (pw) {
		size_t n = strlen(pw);
		if (n < EV_PASSWORD_MIN || n > EV_PASSWORD_MAX || !ev_utf8_valid(pw, n))
			return ev_errf(err, EV_EINVAL, "a password is %d to %d bytes of UTF-8",
			    EV_PASSWORD_MIN, EV_PASSWORD_MAX);
	} else {
		if ((rc = onetime_password(pw_out, err)) != EV_OK)
			return rc;
		pw = pw_out;
	}
	if ((rc = ev_auth_setup(l, err)) != EV_OK || (rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	rc = user_role(l, name, NULL, err);
	if (rc <= 0) {
		rc = rc == 0 ? ev_errf(err, EV_ENOTFOUND, "no user %s", name) : EV_EIO;
		goto fail;
	}
	if ((rc = store_password(l, name, NULL, pw, one_time, 0, err)) != EV_OK)
		goto fail;
	snprintf(subject, sizeof(subject), "user:%s", name);
	if ((rc = append_fact(l, "user.password_set", subject, actor,
		 json_pack("{s:s,s:b}", "user", name, "one_time", one_time), err)) != EV_OK)
		goto fail;
	if ((rc = ev_ledger_commit(l, err)) != EV_OK)
		return rc;
	if (!one_time)
		ev_auth_session_changed(l, name, NULL);
	return EV_OK;
fail:
	ev_ledger_rollback(l);
	return rc;
}

int
ev_user_list(struct ev_ledger *l, void (*cb)(const char *, const char *, int, int64_t, void *),
    void *arg, struct ev_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ev_auth_setup(l, err)) != EV_OK ||
	    (rc = prep(ev_ledger_db(l),
		 "SELECT name, role, one_time, created_us FROM http_users ORDER BY name", &st,
		 err)) != EV_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3), arg);
	rc = rc == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	return rc;
}

/* ---- tokens ---- */

int
ev_token_create(struct ev_ledger *l, const char *user, const char *actor,
    char token_out[EV_TOKEN_LEN + 1], char id_out[EV_TOKEN_ID_LEN + 1], struct ev_err *err)
{
	char secret[48], subject[EV_USER_NAME_MAX + 8];
	uint8_t hash[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ev_auth_setup(l, err)) != EV_OK)
		return rc;
	if (ev_auth_random_hex(EV_TOKEN_ID_LEN / 2, id_out) != 0 ||
	    random_b64url(32, secret, sizeof(secret)) != 0)
		return ev_errf(err, EV_EIO, "no randomness");
	snprintf(token_out, EV_TOKEN_LEN + 1, "evt_%s_%s", id_out, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	SHA256((const uint8_t *)token_out, strlen(token_out), hash);
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		goto out;
	rc = user_role(l, user, NULL, err);
	if (rc <= 0) {
		rc = rc == 0 ? ev_errf(err, EV_ENOTFOUND, "no user %s", user) : EV_EIO;
		goto fail;
	}
	if ((rc = prep(ev_ledger_db(l),
		 "INSERT INTO http_tokens(id, user, hash, created_us) VALUES (?1, ?2, ?3, ?4)", &st,
		 err)) != EV_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id_out, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ev_time_now_us());
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	if (rc != EV_OK)
		goto fail;
	snprintf(subject, sizeof(subject), "user:%s", user);
	if ((rc = append_fact(l, "token.created", subject, actor,
		 json_pack("{s:s,s:s}", "token_id", id_out, "user", user), err)) != EV_OK)
		goto fail;
	rc = ev_ledger_commit(l, err);
	goto out;
fail:
	ev_ledger_rollback(l);
out:
	if (rc != EV_OK)
		OPENSSL_cleanse(token_out, EV_TOKEN_LEN + 1);
	return rc;
}

int
ev_token_revoke(struct ev_ledger *l, const char *id, const char *actor, struct ev_err *err)
{
	char user[EV_USER_NAME_MAX + 1] = "", subject[EV_USER_NAME_MAX + 8];
	sqlite3_stmt *st = NULL;
	int rc, revoked = 0, found = 0;

	if ((rc = ev_auth_setup(l, err)) != EV_OK || (rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = prep(ev_ledger_db(l), "SELECT user, revoked FROM http_tokens WHERE id = ?1", &st,
		 err)) != EV_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		snprintf(user, sizeof(user), "%s", (const char *)sqlite3_column_text(st, 0));
		revoked = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (!found) {
		rc = ev_errf(err, EV_ENOTFOUND, "no token %s", id);
		goto fail;
	}
	if (revoked) {
		rc = ev_errf(err, EV_ESTATE, "token %s is already revoked", id);
		goto fail;
	}
	if ((rc = prep(ev_ledger_db(l), "UPDATE http_tokens SET revoked = 1 WHERE id = ?1", &st,
		 err)) != EV_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	if (rc != EV_OK)
		goto fail;
	snprintf(subject, sizeof(subject), "user:%s", user);
	if ((rc = append_fact(l, "token.revoked", subject, actor,
		 json_pack("{s:s,s:s}", "token_id", id, "user", user), err)) != EV_OK)
		goto fail;
	return ev_ledger_commit(l, err);
fail:
	ev_ledger_rollback(l);
	return rc;
}

int
ev_token_list(struct ev_ledger *l, void (*cb)(const char *, const char *, int64_t, int, void *),
    void *arg, struct ev_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ev_auth_setup(l, err)) != EV_OK ||
	    (rc = prep(ev_ledger_db(l),
		 "SELECT id, user, created_us, revoked FROM http_tokens ORDER BY created_us, id",
		 &st, err)) != EV_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3), arg);
	rc = rc == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "credential store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	return rc;
}

/* ---- checks ---- */

static int
fill_principal(struct ev_ledger *l, const char *user, struct ev_principal *p, struct ev_err *err)
{
	char role[32];
	int rc = user_role(l, user, role, err);

	if (rc <= 0)
		return rc == 0 ? ev_errf(err, EV_EDENIED, "unknown user") : EV_EIO;
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->role, sizeof(p->role), "%s", role);
	p->role_bit = ev_role_bit(role);
	return p->role_bit ? EV_OK : ev_errf(err, EV_EDENIED, "user has no valid role");
}

int
ev_auth_token(struct ev_ledger *l, const char *token, struct ev_principal *p, struct ev_err *err)
{
	char id[EV_TOKEN_ID_LEN + 1], user[EV_USER_NAME_MAX + 1] = "";
	uint8_t hash[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	size_t n = token ? strlen(token) : 0;
	int rc, ok = 0;

	memset(p, 0, sizeof(*p));
	if (n < 4 + EV_TOKEN_ID_LEN + 2 || n > EV_TOKEN_LEN || strncmp(token, "evt_", 4) != 0 ||
	    token[4 + EV_TOKEN_ID_LEN] != '_')
		return ev_errf(err, EV_EDENIED, "malformed token");
	memcpy(id, token + 4, EV_TOKEN_ID_LEN);
	id[EV_TOKEN_ID_LEN] = '\0';
	SHA256((const uint8_t *)token, n, hash);
	if ((rc = prep(ev_ledger_db(l),
		 "SELECT user, hash FROM http_tokens WHERE id = ?1 AND revoked = 0", &st, err)) != EV_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == (int)sizeof(hash) &&
	    CRYPTO_memcmp(sqlite3_column_blob(st, 1), hash, sizeof(hash)) == 0) {
		ok = 1;
		snprintf(user, sizeof(user), "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (!ok)
		return ev_errf(err, EV_EDENIED, "unknown or revoked token");
	return fill_principal(l, user, p, err);
}

int
ev_auth_password(struct ev_ledger *l, const char *user, const char *pw, struct ev_principal *p,
    struct ev_err *err)
{
	static const uint8_t dummy_salt[SALT_LEN];
	uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	sqlite3_stmt *st = NULL;
	uint64_t n = SCRYPT_N;
	uint32_t r = SCRYPT_R, pp = SCRYPT_P;
	int rc, found = 0, one_time = 0;

	memset(p, 0, sizeof(*p));
	memset(want, 0, sizeof(want));
	memcpy(salt, dummy_salt, sizeof(salt));
	if (!pw || strlen(pw) > EV_PASSWORD_MAX)
		return ev_errf(err, EV_EDENIED, "wrong user or password");
	if ((rc = prep(ev_ledger_db(l),
		 "SELECT salt, hash, n, r, p, one_time FROM http_users WHERE name = ?1", &st,
		 err)) != EV_OK)
		return rc;
	sqlite3_bind_text(st, 1, user ? user : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SALT_LEN &&
	    sqlite3_column_bytes(st, 1) == HASH_LEN) {
		found = 1;
		memcpy(salt, sqlite3_column_blob(st, 0), SALT_LEN);
		memcpy(want, sqlite3_column_blob(st, 1), HASH_LEN);
		n = (uint64_t)sqlite3_column_int64(st, 2);
		r = (uint32_t)sqlite3_column_int64(st, 3);
		pp = (uint32_t)sqlite3_column_int64(st, 4);
		one_time = sqlite3_column_int(st, 5);
	}
	sqlite3_finalize(st);
	/* Same work for unknown users: the answer's timing does not tell names apart. */
	if (scrypt_hash(pw, salt, n, r, pp, got) != 0)
		return ev_errf(err, EV_EIO, "scrypt failed");
	rc = CRYPTO_memcmp(want, got, HASH_LEN) == 0 && found;
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	if (!rc)
		return ev_errf(err, EV_EDENIED, "wrong user or password");
	if ((rc = fill_principal(l, user, p, err)) != EV_OK)
		return rc;
	p->must_change = one_time;
	return EV_OK;
}

int
ev_auth_session_create(struct ev_ledger *l, const struct ev_principal *p, int64_t now_us,
    unsigned ttl_s, char sid_out[65], struct ev_err *err)
{
	char hash[65], csrf[65];
	sqlite3_stmt *st = NULL;
	int rc;

	if (ev_auth_random_hex(32, sid_out) != 0 || ev_auth_random_hex(32, csrf) != 0)
		return ev_errf(err, EV_EIO, "no randomness");
	ev_auth_sha256_hex(sid_out, 64, hash);
	if ((rc = prep(ev_ledger_db(l),
		 "INSERT INTO http_sessions(id_hash, user, csrf, created_us, expires_us, must_change)"
		 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		 &st, err)) != EV_OK)
		return rc;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_us);
	sqlite3_bind_int64(st, 5, now_us + (int64_t)ttl_s * 1000000);
	sqlite3_bind_int(st, 6, p->must_change);
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "session store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	/* Expired sessions go now and then; one statement, no scan of the ledger. */
	if (rc == EV_OK && prep(ev_ledger_db(l), "DELETE FROM http_sessions WHERE expires_us < ?1",
			       &st, NULL) == EV_OK) {
		sqlite3_bind_int64(st, 1, now_us);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return rc;
}

int
ev_auth_session(struct ev_ledger *l, const char *sid, int64_t now_us, struct ev_principal *p,
    struct ev_err *err)
{
	char hash[65], user[EV_USER_NAME_MAX + 1] = "", csrf[65] = "";
	sqlite3_stmt *st = NULL;
	int rc, ok = 0, must = 0;

	memset(p, 0, sizeof(*p));
	if (!sid || strlen(sid) != 64)
		return ev_errf(err, EV_EDENIED, "no session");
	ev_auth_sha256_hex(sid, 64, hash);
	if ((rc = prep(ev_ledger_db(l),
		 "SELECT user, csrf, must_change, id_hash FROM http_sessions"
		 " WHERE id_hash = ?1 AND expires_us > ?2",
		 &st, err)) != EV_OK)
		return rc;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_us);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 3) == 64 &&
	    CRYPTO_memcmp(sqlite3_column_text(st, 3), hash, 64) == 0) {
		ok = 1;
		snprintf(user, sizeof(user), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(csrf, sizeof(csrf), "%s", (const char *)sqlite3_column_text(st, 1));
		must = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (!ok)
		return ev_errf(err, EV_EDENIED, "no session");
	if ((rc = fill_principal(l, user, p, err)) != EV_OK)
		return rc;
	p->via_session = 1;
	p->must_change = must;
	memcpy(p->csrf, csrf, sizeof(csrf));
	memcpy(p->session_hash, hash, sizeof(hash));
	return EV_OK;
}

int
ev_auth_session_delete(struct ev_ledger *l, const char *session_hash, struct ev_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(ev_ledger_db(l), "DELETE FROM http_sessions WHERE id_hash = ?1", &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, session_hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "session store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	return rc;
}

int
ev_auth_session_changed(struct ev_ledger *l, const char *user, struct ev_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(ev_ledger_db(l), "UPDATE http_sessions SET must_change = 0 WHERE user = ?1",
		 &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? EV_OK
	    : ev_errf(err, EV_EIO, "session store: %s", sqlite3_errmsg(ev_ledger_db(l)));
	sqlite3_finalize(st);
	return rc;
}

/* ---- rate limiter ---- */

#define LIMIT_SLOTS 1024
#define LIMIT_MAX_EVENTS 64

struct limit_slot {
	char key[96];
	unsigned n;
	int64_t t[LIMIT_MAX_EVENTS];
};

struct ev_limiter {
	pthread_mutex_t mu;
	unsigned max;
	int64_t window_us;
	struct limit_slot slots[LIMIT_SLOTS];
};

struct ev_limiter *
ev_limiter_new(unsigned max, int64_t window_us)
{
	struct ev_limiter *lim = ev_xcalloc(1, sizeof(*lim));

	pthread_mutex_init(&lim->mu, NULL);
	lim->max = max == 0 ? 1 : max > LIMIT_MAX_EVENTS ? LIMIT_MAX_EVENTS : max;
	lim->window_us = window_us;
	return lim;
}

void
ev_limiter_free(struct ev_limiter *lim)
{
	if (lim) {
		pthread_mutex_destroy(&lim->mu);
		free(lim);
	}
}

/* The slot for key (a hash of it picks a slot; a collision evicts the old key). */
static struct limit_slot *
slot_for(struct ev_limiter *lim, const char *key, int create)
{
	uint32_t h = 2166136261u;
	struct limit_slot *s;

	for (const char *c = key; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	s = &lim->slots[h % LIMIT_SLOTS];
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0) {
		if (!create)
			return NULL;
		memset(s, 0, sizeof(*s));
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	return s;
}

static void
expire(struct ev_limiter *lim, struct limit_slot *s, int64_t now_us)
{
	unsigned j = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (s->t[i] > now_us - lim->window_us)
			s->t[j++] = s->t[i];
	s->n = j;
}

int
ev_limiter_over(struct ev_limiter *lim, const char *key, int64_t now_us)
{
	struct limit_slot *s;
	int over = 0;

	pthread_mutex_lock(&lim->mu);
	if ((s = slot_for(lim, key, 0)) != NULL) {
		expire(lim, s, now_us);
		over = s->n >= lim->max;
	}
	pthread_mutex_unlock(&lim->mu);
	return over;
}

void
ev_limiter_add(struct ev_limiter *lim, const char *key, int64_t now_us)
{
	struct limit_slot *s;

	pthread_mutex_lock(&lim->mu);
	s = slot_for(lim, key, 1);
	expire(lim, s, now_us);
	if (s->n < LIMIT_MAX_EVENTS)
		s->t[s->n++] = now_us;
	pthread_mutex_unlock(&lim->mu);
}

void
ev_limiter_clear(struct ev_limiter *lim, const char *key)
{
	struct limit_slot *s;

	pthread_mutex_lock(&lim->mu);
	if ((s = slot_for(lim, key, 0)) != NULL)
		s->n = 0;
	pthread_mutex_unlock(&lim->mu);
}
