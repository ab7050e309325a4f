/*
 * test_http.c - the parts of src/http that do not need a socket: the
 * configuration loader, the rate limiter, names and roles, and the
 * credential store (passwords, one-time passwords, tokens, sessions) on a
 * temporary data directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/internal.h"
#include "unit.h"

static char dir[256];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void
test_config(void)
{
	struct ev_http_config c;
	struct ev_err err = { 0 };
	char path[300];

	snprintf(path, sizeof(path), "%s/http.yaml", dir);
	ev_http_config_defaults(&c, "/x");
	CHECK(strcmp(c.listen, "127.0.0.1:8319") == 0 && c.body_max == 65536 && !c.public_report,
	    "defaults: loopback 8319, 64 KiB bodies, no public report");
	write_file(path, "listen: 127.0.0.1:0\npublic_report: true\nbody_max: 2048\nthreads: 2\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_OK && c.public_report && c.body_max == 2048 &&
		c.threads == 2 && strcmp(c.listen, "127.0.0.1:0") == 0,
	    "flat keys load");
	ev_http_config_defaults(&c, "/x");
	write_file(path, "syslog: {udp: x}\nhttp:\n  public_report: yes\n  session_ttl: 600\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_OK && c.public_report && c.session_ttl_s == 600,
	    "an http: section is read");
	write_file(path, "public_reprot: true\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_EINVAL && strstr(err.msg, "public_reprot"),
	    "an unknown key is an error naming it");
	write_file(path, "body_max: lots\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_EINVAL && strstr(err.msg, "line 1"),
	    "a bad value is an error with its line");
	write_file(path, "threads: 0\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_EINVAL, "zero threads refused");
	write_file(path, "verify_every: 5\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_EINVAL, "verifying more often than every 10 s refused");
	write_file(path, "verify_every: 0\n");
	CHECK(ev_http_config_load(path, &c, &err) == EV_OK && c.verify_every_s == 0,
	    "verify_every: 0 turns the schedule off");
	write_file(path, "");
	CHECK(ev_http_config_load(path, &c, &err) == EV_OK, "an empty file keeps the defaults");
	CHECK(ev_http_config_load("/nonexistent/x.yaml", &c, &err) == EV_ENOTFOUND,
	    "a missing file is not found");
}

static void
test_limiter(void)
{
	struct ev_limiter *lim = ev_limiter_new(3, 1000000);
	int over = 0;

	for (int i = 0; i < 3; i++) {
		over |= ev_limiter_over(lim, "k", 10);
		ev_limiter_add(lim, "k", 10);
	}
	CHECK(!over, "three events are allowed");
	CHECK(ev_limiter_over(lim, "k", 11), "the fourth is over the limit");
	CHECK(!ev_limiter_over(lim, "other", 11), "other keys are not affected");
	CHECK(!ev_limiter_over(lim, "k", 10 + 1000001), "the window slides");
	ev_limiter_add(lim, "k", 5000000);
	ev_limiter_clear(lim, "k");
	CHECK(!ev_limiter_over(lim, "k", 5000001), "clear forgets a key");
	ev_limiter_free(lim);
}

static void
test_names(void)
{
	CHECK(ev_role_bit("viewer") == 1 && ev_role_bit("admin") == 64 && ev_role_bit("root") == 0 &&
		ev_role_bit(NULL) == 0,
	    "role bits follow ev_roles[]");
	CHECK(ev_user_name_ok("ada") && ev_user_name_ok("a.b-c_d9") && !ev_user_name_ok("") &&
		!ev_user_name_ok("-x") && !ev_user_name_ok("Ada") && !ev_user_name_ok("a b") &&
		!ev_user_name_ok("a/b"),
	    "user names: lower-case letters, digits, . _ -");
}

static void
test_credentials(void)
{
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	struct ev_principal p;
	char data[300], pw[EV_ONETIME_PW_LEN + 1], pw2[EV_ONETIME_PW_LEN + 1];
	char tok[EV_TOKEN_LEN + 1], id[EV_TOKEN_ID_LEN + 1], sid[65], bad[EV_TOKEN_LEN + 1];
	uint64_t size = 0;

	snprintf(data, sizeof(data), "%s/data", dir);
	CHECK(ev_ledger_init(data, "test.example/evident", &err) == EV_OK && ev_ledger_open(data, 0, &l, &err) == EV_OK,
	    "a fresh ledger");
	CHECK(ev_user_add(l, "ada", "admin", "test", pw, &err) == EV_OK && strlen(pw) == 24,
	    "user added with a 24-character one-time password");
	CHECK(ev_user_add(l, "ada", "viewer", "test", pw2, &err) == EV_EEXIST, "no second ada");
	CHECK(ev_user_add(l, "bob", "root", "test", pw2, &err) == EV_EINVAL, "unknown role refused");
	CHECK(ev_auth_password(l, "ada", pw, &p, &err) == EV_OK && p.must_change &&
		strcmp(p.role, "admin") == 0,
	    "the one-time password signs in and must be changed");
	CHECK(ev_auth_password(l, "ada", "wrong", &p, &err) == EV_EDENIED, "a wrong password fails");
	CHECK(ev_auth_password(l, "nobody", pw, &p, &err) == EV_EDENIED, "an unknown user fails");
	CHECK(ev_user_set_password(l, "ada", "short", "ada", NULL, &err) == EV_EINVAL,
	    "a short password is refused");
	CHECK(ev_user_set_password(l, "ada", "a much longer password", "ada", NULL, &err) == EV_OK,
	    "a password is set");
	CHECK(ev_auth_password(l, "ada", "a much longer password", &p, &err) == EV_OK &&
		!p.must_change,
	    "it signs in without the change flag");
	CHECK(ev_auth_password(l, "ada", pw, &p, &err) == EV_EDENIED, "the one-time one is gone");
	CHECK(ev_user_set_role(l, "ada", "viewer", "test", &err) == EV_OK &&
		ev_auth_password(l, "ada", "a much longer password", &p, &err) == EV_OK &&
		strcmp(p.role, "viewer") == 0,
	    "a role change takes effect");

	CHECK(ev_token_create(l, "ada", "test", tok, id, &err) == EV_OK && strncmp(tok, "evt_", 4) == 0 &&
		strlen(tok) == 64 && memcmp(tok + 4, id, 16) == 0,
	    "a token evt_<id>_<secret>");
	CHECK(ev_token_create(l, "nobody", "test", bad, id, &err) == EV_ENOTFOUND,
	    "no token for an unknown user");
	CHECK(ev_auth_token(l, tok, &p, &err) == EV_OK && strcmp(p.user, "ada") == 0 &&
		!p.via_session,
	    "the token authenticates ada");
	memcpy(bad, tok, sizeof(bad));
	bad[40] = bad[40] == 'A' ? 'B' : 'A';
	CHECK(ev_auth_token(l, bad, &p, &err) == EV_EDENIED, "a changed secret fails");
	CHECK(ev_auth_token(l, "evt_x", &p, &err) == EV_EDENIED, "a malformed token fails");
	memcpy(id, tok + 4, 16);
	id[16] = '\0';
	CHECK(ev_token_revoke(l, id, "test", &err) == EV_OK && ev_auth_token(l, tok, &p, &err) == EV_EDENIED,
	    "a revoked token fails");
	CHECK(ev_token_revoke(l, id, "test", &err) == EV_ESTATE, "revoking twice is a state error");

	ev_auth_password(l, "ada", "a much longer password", &p, &err);
	CHECK(ev_auth_session_create(l, &p, 1000000, 60, sid, &err) == EV_OK && strlen(sid) == 64,
	    "a session");
	CHECK(ev_auth_session(l, sid, 2000000, &p, &err) == EV_OK && p.via_session &&
		strlen(p.csrf) == 64,
	    "the session authenticates, with a CSRF token");
	CHECK(ev_auth_session(l, sid, 1000000 + 61000000, &p, &err) == EV_EDENIED,
	    "an expired session fails");
	ev_auth_session(l, sid, 2000000, &p, &err);
	CHECK(ev_auth_session_delete(l, p.session_hash, &err) == EV_OK &&
		ev_auth_session(l, sid, 2000000, &p, &err) == EV_EDENIED,
	    "a deleted session fails");

	ev_ledger_size(l, &size, &err);
	CHECK(size == 5, "five facts recorded (added, password_set, role_changed, token created and revoked); refusals wrote nothing");
	CHECK(ev_ledger_verify(l, NULL, NULL, NULL, &err) == EV_OK, "the ledger verifies");
	CHECK(ev_ledger_rebuild(l, &err) == EV_OK &&
		ev_auth_password(l, "ada", "a much longer password", &p, &err) == EV_OK,
	    "a projection rebuild leaves the credentials alone");
	ev_ledger_close(l);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof(dir), "%s/evident-http-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	test_config();
	test_limiter();
	test_names();
	test_credentials();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	UNIT_END();
}
