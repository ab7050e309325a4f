/*
 * tsa.c - RFC 3161 anchoring of checkpoints: a time-stamping authority
 * signs SHA-256 of the checkpoint note, so a third party vouches that the
 * tree head existed at that time.
 *
 * The request (OpenSSL TS_REQ: SHA-256 imprint, random 64-bit nonce,
 * certReq) goes out as an HTTP POST through libcurl (RFC 3161 section 3.4:
 * application/timestamp-query); the answer is verified before anything is
 * recorded: status granted, imprint, nonce, signature, ESSCertID binding and
 * the timeStamping purpose of the signer, chained to the CA file given (or,
 * without one, to the certificate the token carries).  The whole DER
 * TimeStampResp is kept, base64, in a "checkpoint.timestamp" entry so that
 * `openssl ts -verify -in` accepts it as it is.
 */
#include "pack/pack.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

#define TSA_RESPONSE_MAX (1u << 20)

static const char *
ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown reason";
}

/* A trust store: the CA file, or the token's own signer certificate. */
static X509_STORE *
make_store(const char *ca_file, PKCS7 *token, struct ev_err *err)
{
	X509_STORE *st = X509_STORE_new();
	STACK_OF(X509) *signers = NULL;

	if (st == NULL) {
		ev_errf(err, EV_ENOMEM, "cannot allocate a certificate store");
		return NULL;
	}
	if (ca_file) {
		if (X509_STORE_load_file(st, ca_file) != 1) {
			ev_errf(err, EV_EINVAL, "cannot load TSA certificate file %s: %s", ca_file,
			    ossl_reason());
			goto fail;
		}
	} else {
		if (token == NULL || !PKCS7_type_is_signed(token) ||
		    (signers = PKCS7_get0_signers(token, NULL, 0)) == NULL ||
		    sk_X509_num(signers) != 1) {
			ev_errf(err, EV_ECORRUPT, "the token does not carry its signer's certificate");
			goto fail;
		}
		if (X509_STORE_add_cert(st, sk_X509_value(signers, 0)) != 1) {
			ev_errf(err, EV_EIO, "cannot use the token's certificate: %s", ossl_reason());
			goto fail;
		}
		sk_X509_free(signers);
	}
	/* The file may hold the TSA certificate itself rather than a root. */
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	return st;
fail:
	sk_X509_free(signers);
	X509_STORE_free(st);
	return NULL;
}

static void
format_gen_time(const ASN1_GENERALIZEDTIME *gt, char *out, size_t n)
{
	struct tm tm;

	if (out == NULL || n == 0)
		return;
	out[0] = '\0';
	if (gt && ASN1_TIME_to_tm(gt, &tm) == 1)
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Verify resp: against req when given (imprint, nonce), else against digest.
 * Fills gen_time and serial (hex, may be NULL).
 */
static int
verify_resp(TS_RESP *resp, TS_REQ *req, const uint8_t digest[32], const char *ca_file,
    char *gen_time, size_t gen_len, char *serial, size_t serial_len, struct ev_err *err)
{
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	TS_TST_INFO *tst;
	const ASN1_INTEGER *status;
	const ASN1_OBJECT *obj = NULL;
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *md;
	int rc = EV_OK;

	status = TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp));
	if (status == NULL || ASN1_INTEGER_get(status) > 1 || TS_RESP_get_token(resp) == NULL)
		return ev_errf(err, EV_ECORRUPT, "the TSA did not grant the time-stamp (status %ld)",
		    status ? ASN1_INTEGER_get(status) : -1L);
	tst = TS_RESP_get_tst_info(resp);
	alg = tst ? TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst)) : NULL;
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || OBJ_obj2nid(obj) != NID_sha256)
		return ev_errf(err, EV_ECORRUPT, "the token's message imprint is not SHA-256");
	md = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst));
	if (md == NULL || ASN1_STRING_length(md) != 32 || memcmp(ASN1_STRING_get0_data(md), digest, 32) != 0)
		return ev_errf(err, EV_ECORRUPT,
		    "message imprint is not SHA-256 of the checkpoint note");
	if ((st = make_store(ca_file, TS_RESP_get_token(resp), err)) == NULL)
		return err ? err->code : EV_ECORRUPT;
	if (req) {
		ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
	} else {
		unsigned char *imp = OPENSSL_malloc(32);
		ctx = TS_VERIFY_CTX_new();
		if (ctx && imp) {
			memcpy(imp, digest, 32);
			TS_VERIFY_CTX_set_imprint(ctx, imp, 32);
			TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
		} else {
			OPENSSL_free(imp);
		}
	}
	if (ctx == NULL) {
		X509_STORE_free(st);
		return ev_errf(err, EV_ENOMEM, "cannot set up time-stamp verification");
	}
	TS_VERIFY_CTX_set_store(ctx, st); /* ctx owns st from here */
	ERR_clear_error();
	if (TS_RESP_verify_response(ctx, resp) != 1) {
		rc = ev_errf(err, EV_ECORRUPT, "time-stamp response does not verify: %s",
		    ossl_reason());
		goto out;
	}
	format_gen_time(TS_TST_INFO_get_time(tst), gen_time, gen_len);
	if (serial && serial_len) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tst), NULL);
		char *h = bn ? BN_bn2hex(bn) : NULL;
		snprintf(serial, serial_len, "%s", h ? h : "");
		for (char *p = serial; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		OPENSSL_free(h);
		BN_free(bn);
	}
out:
	TS_VERIFY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
ev_tsa_verify_response(const uint8_t *der, size_t len, const void *note, size_t note_len,
    const char *ca_file, char *gen_time, size_t gen_time_len, struct ev_err *err)
{
	const unsigned char *p = der;
	uint8_t digest[32];
	TS_RESP *resp;
	int rc;

	if (len > TSA_RESPONSE_MAX || (resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		ERR_clear_error();
		return ev_errf(err, EV_ECORRUPT, "not a DER RFC 3161 time-stamp response");
	}
	ev_sha256(note, note_len, digest);
	rc = verify_resp(resp, NULL, digest, ca_file, gen_time, gen_time_len, NULL, 0, err);
	TS_RESP_free(resp);
	return rc;
}

/* ---- the request and its transport ---- */

static TS_REQ *
make_request(const uint8_t digest[32])
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = BN_new();
	int ok;

	ok = req && mi && alg && bn && TS_REQ_set_version(req, 1) &&
	     X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
	     TS_MSG_IMPRINT_set_algo(mi, alg) && TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, 32) &&
	     TS_REQ_set_msg_imprint(req, mi) && BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	     (nonce = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && TS_REQ_set_nonce(req, nonce) &&
	     TS_REQ_set_cert_req(req, 1);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		return NULL;
	}
	return req;
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct ev_buf *b = arg;

	if (n && size > TSA_RESPONSE_MAX / n)
		return 0;
	if (b->len + size * n > TSA_RESPONSE_MAX)
		return 0; /* aborts the transfer: a time-stamp response is small */
	ev_buf_add(b, p, size * n);
	return size * n;
}

static int
http_post(const char *url, const uint8_t *der, size_t len, struct ev_buf *resp,
    struct ev_err *err)
{
	CURL *c;
	struct curl_slist *h = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode cc;
	int rc = EV_OK;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (c = curl_easy_init()) == NULL)
		return ev_errf(err, EV_EIO, "cannot initialise libcurl");
	h = curl_slist_append(h, "Content-Type: application/timestamp-query");
	h = curl_slist_append(h, "Accept: application/timestamp-reply");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)der);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "evident");
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = ev_errf(err, EV_EIO, "TSA %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		rc = ev_errf(err, EV_EIO, "TSA %s: HTTP status %ld", url, code);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

int
ev_anchor_checkpoint(struct ev_ledger *l, const struct ev_checkpoint *cp, const char *url,
    const char *ca_file, const char *actor, struct ev_anchor_result *res, struct ev_err *err)
{
	struct ev_buf note = EV_BUF_INIT, resp = EV_BUF_INIT;
	uint8_t digest[32], *reqder = NULL;
	TS_REQ *req = NULL;
	TS_RESP *r = NULL;
	const unsigned char *p;
	char root[65], *b64 = NULL, *body = NULL;
	json_t *o = NULL;
	int n, rc;

	memset(res, 0, sizeof(*res));
	ev_checkpoint_note(cp, &note);
	ev_sha256(note.p, note.len, digest);
	if ((req = make_request(digest)) == NULL || (n = i2d_TS_REQ(req, &reqder)) <= 0) {
		rc = ev_errf(err, EV_EIO, "cannot build the time-stamp request: %s", ossl_reason());
		goto out;
	}
	if ((rc = http_post(url, reqder, (size_t)n, &resp, err)) != EV_OK)
		goto out;
	p = (const unsigned char *)resp.p;
	if (resp.len == 0 || (r = d2i_TS_RESP(NULL, &p, (long)resp.len)) == NULL ||
	    p != (const unsigned char *)resp.p + resp.len) {
		rc = ev_errf(err, EV_ECORRUPT, "TSA %s: the answer is not a time-stamp response", url);
		goto out;
	}
	if ((rc = verify_resp(r, req, digest, ca_file, res->gen_time, sizeof(res->gen_time),
		 res->serial, sizeof(res->serial), err)) != EV_OK)
		goto out;
	res->chain_checked = ca_file != NULL;
	b64 = ev_xmalloc(4 * ((resp.len + 2) / 3) + 1);
	ev_b64_encode((const uint8_t *)resp.p, resp.len, b64);
	ev_hex_encode(cp->root, 32, root);
	o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:s}", "checkpoint_seq", (json_int_t)cp->seq,
	    "gen_time", res->gen_time, "root", root, "serial", res->serial, "size",
	    (json_int_t)cp->size, "token", b64, "tsa_url", url);
	if (o == NULL || (body = ev_json_dump(o)) == NULL) {
		rc = ev_errf(err, EV_EINVAL, "cannot record the token (URL not UTF-8?)");
		goto out;
	}
	{
		struct ev_entry_in in = { "checkpoint.timestamp", "ledger", actor ? actor : "system",
			body, 0 };
		rc = ev_ledger_append(l, &in, 1, &res->seq, err);
	}
out:
	ERR_clear_error();
	json_decref(o);
	free(body);
	free(b64);
	OPENSSL_free(reqder);
	TS_REQ_free(req);
	TS_RESP_free(r);
	ev_buf_free(&note);
	ev_buf_free(&resp);
	return rc;
}
