/*
 * keys.c - Ed25519 key generation, storage, signing (see keys.h).
 */
#include "ledger/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/merkle.h"
#include "util/buf.h"
#include "util/enc.h"

static char *
path_join(const char *dir, const char *name)
{
	struct ev_buf b = EV_BUF_INIT;

	ev_buf_addf(&b, "%s/%s", dir, name);
	return ev_buf_detach(&b);
}

static int
write_pem(const char *path, EVP_PKEY *key, int private, struct ev_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private ? 0600 : 0644);
	FILE *f;
	int ok;

	if (fd < 0)
		return ev_errf(err, EV_EIO, "cannot create %s: %s", path, strerror(errno));
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return ev_errf(err, EV_EIO, "cannot write %s: %s", path, strerror(errno));
	}
	ok = private ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_PUBKEY(f, key);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		return ev_errf(err, EV_EIO, "cannot write key file %s", path);
	return EV_OK;
}

int
ev_key_generate(const char *dir, struct ev_err *err)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *priv = path_join(dir, "key.pem"), *pub = path_join(dir, "key.pub");
	int rc;

	if (key == NULL) {
		rc = ev_errf(err, EV_EIO, "cannot generate an Ed25519 key");
		goto out;
	}
	if ((rc = write_pem(priv, key, 1, err)) != EV_OK)
		goto out;
	rc = write_pem(pub, key, 0, err);
out:
	EVP_PKEY_free(key);
	free(priv);
	free(pub);
	return rc;
}

int
ev_key_load_private(const char *dir, EVP_PKEY **out, struct ev_err *err)
{
	char *path = path_join(dir, "key.pem");
	struct stat sb;
	EVP_PKEY *key = NULL;
	FILE *f = NULL;
	int rc = EV_OK;

	if (stat(path, &sb) != 0) {
		rc = ev_errf(err, EV_EIO, "signing key %s: %s", path, strerror(errno));
		goto out;
	}
	if (sb.st_mode & 077) {
		rc = ev_errf(err, EV_EDENIED,
		    "signing key %s is accessible by group or others (mode %03o); chmod 600 it",
		    path, (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	if ((f = fopen(path, "r")) == NULL) {
		rc = ev_errf(err, EV_EIO, "signing key %s: %s", path, strerror(errno));
		goto out;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		key = NULL;
		/* EV_EIO, not EV_ECORRUPT: the ledger is intact, the key file cannot sign (exit 1). */
		rc = ev_errf(err, EV_EIO,
		    "signing key %s is corrupt or not an Ed25519 private key", path);
		goto out;
	}
	*out = key;
out:
	if (f)
		fclose(f);
	free(path);
	return rc;
}

int
ev_key_read_public_file(const char *path, uint8_t pub[32], struct ev_err *err)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;
	char line[128];
	size_t len = 32;
	int rc = EV_OK;

	if (f == NULL)
		return ev_errf(err, EV_EIO, "public key %s: %s", path, strerror(errno));
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (key == NULL) {
		/* Not PEM: accept a file holding the raw key as 64 hex characters. */
		rewind(f);
		if (fgets(line, sizeof(line), f) != NULL) {
			size_t n = strcspn(line, "\r\n");
			if (n == 64 && ev_hex_decode(line, 64, pub, 32) == 32)
				goto out;
		}
		rc = ev_errf(err, EV_ECORRUPT, "public key %s is corrupt or not Ed25519", path);
		goto out;
	}
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(key, pub, &len) || len != 32)
		rc = ev_errf(err, EV_ECORRUPT, "public key %s is not an Ed25519 key", path);
	EVP_PKEY_free(key);
out:
	fclose(f);
	return rc;
}

int
ev_key_load_public(const char *dir, uint8_t pub[32], struct ev_err *err)
{
	char *path = path_join(dir, "key.pub");
	int rc = ev_key_read_public_file(path, pub, err);

	free(path);
	return rc;
}

void
ev_key_free(EVP_PKEY *key)
{
	EVP_PKEY_free(key);
}

int
ev_key_sign(EVP_PKEY *key, const void *msg, size_t n, uint8_t sig[64], struct ev_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == 64;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ev_errf(err, EV_EIO, "cannot sign with the installation key");
	return EV_OK;
}

int
ev_key_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, 64, msg, n) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

void
ev_key_id(const uint8_t pub[32], char out[17])
{
	uint8_t h[EV_HASH_LEN];

	ev_sha256(pub, 32, h);
	ev_hex_encode(h, 8, out);
}
