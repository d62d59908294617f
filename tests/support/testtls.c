#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "testtls.h"
#include "testutil.h"

/* Throw-away certificates and an HTTPS evhttp server (see testtls.h). */

#define TESTTLS_DAYS 1 /* days a certificate is valid, from an hour ago */

struct testtls_ca {
	EVP_PKEY *key;
	X509 *cert;
};

struct testtls_server {
	struct evhttp *http;
	SSL_CTX *ctx;
};

/* The extensions of each kind of certificate, as openssl.cnf has them. */
static const struct testtls_ext {
	int nid;
	const char *value;
} testtls_ca_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
	{ 0, NULL },
}, testtls_server_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
	{ 0, NULL },
};

static X509 *testtls_cert(const char *, EVP_PKEY *, const struct testtls_ca *,
    const struct testtls_ext *);
static struct bufferevent *testtls_bev_cb(struct event_base *, void *);

/*
 * A certificate for key with subject CN=cn and exts, signed by issuer,
 * or self-signed when issuer is NULL.
 */
static X509 *
testtls_cert(const char *cn, EVP_PKEY *key, const struct testtls_ca *issuer,
    const struct testtls_ext *exts)
{
	static long serial;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509 *x;
	X509_NAME *name;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(
	    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(
	    X509_gmtime_adj(X509_getm_notAfter(x), TESTTLS_DAYS * 86400L));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
			     (const unsigned char *)cn, -1, -1, 0),
	    1);
	assert_int_equal(
	    X509_set_issuer_name(
		x, issuer != NULL ? X509_get_subject_name(issuer->cert) : name),
	    1);
	X509V3_set_ctx(
	    &v3, issuer != NULL ? issuer->cert : x, x, NULL, NULL, 0);
	for (; exts->nid != 0; exts++) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, exts->nid, exts->value);
		if (ext == NULL)
			fail_msg("extension %s", exts->value);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, issuer != NULL ? issuer->key : key, EVP_sha256()) == 0)
		fail_msg("cannot sign the certificate for %s", cn);
	return x;
}

struct testtls_ca *
testtls_ca_new(const char *cn)
{
	struct testtls_ca *ca;

	assert_non_null(ca = calloc(1, sizeof *ca));
	assert_non_null(ca->key = EVP_EC_gen("P-256"));
	ca->cert = testtls_cert(cn, ca->key, NULL, testtls_ca_exts);
	return ca;
}

void
testtls_ca_write(const struct testtls_ca *ca, const char *path)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL)
		fail_msg("%s: cannot create", path);
	assert_int_equal(PEM_write_X509(f, ca->cert), 1);
	assert_int_equal(fclose(f), 0);
}

void
testtls_ca_free(struct testtls_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

/* Each connection evhttp accepts gets a server-side TLS bufferevent. */
static struct bufferevent *
testtls_bev_cb(struct event_base *base, void *arg)
{
	SSL_CTX *ctx = arg;
	SSL *ssl;

	assert_non_null(ssl = SSL_new(ctx));
	return bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

struct testtls_server *
testtls_server_start(struct event_base *base, const struct testtls_ca *ca,
    void (*cb)(struct evhttp_request *, void *), void *arg, int *port)
{
	return testtls_server_start_for(base, ca, NULL, cb, arg, port);
}

struct testtls_server *
testtls_server_start_for(struct event_base *base, const struct testtls_ca *ca,
    const char *names, void (*cb)(struct evhttp_request *, void *), void *arg,
    int *port)
{
	struct testtls_ext
	    exts[sizeof testtls_server_exts / sizeof testtls_server_exts[0]];
	struct testtls_server *s;
	EVP_PKEY *key;
	X509 *cert;

	memcpy(exts, testtls_server_exts, sizeof exts);
	for (size_t i = 0; names != NULL && exts[i].nid != 0; i++) {
		if (exts[i].nid == NID_subject_alt_name)
			exts[i].value = names;
	}
	assert_non_null(s = calloc(1, sizeof *s));
	assert_non_null(key = EVP_EC_gen("P-256"));
	cert = testtls_cert("127.0.0.1", key, ca, exts);
	assert_non_null(s->ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
	assert_int_equal(SSL_CTX_check_private_key(s->ctx), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	s->http = testutil_http_start(base, cb, arg, port);
	evhttp_set_bevcb(s->http, testtls_bev_cb, s->ctx);
	return s;
}

void
testtls_server_free(struct testtls_server *s)
{
	if (s == NULL)
		return;
	/* Its connections hold the context: free them first. */
	evhttp_free(s->http);
	SSL_CTX_free(s->ctx);
	free(s);
}
