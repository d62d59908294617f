#ifndef FEEDWATCH_TEST_TESTTLS_H
#define FEEDWATCH_TEST_TESTTLS_H

#include <event2/event.h>
#include <event2/http.h>

/*
 * TLS for the cmocka tests: a throw-away certificate authority made at
 * run time with libssl, and an evhttp server on loopback that speaks
 * HTTPS (libevent's bufferevent_openssl) with a certificate for
 * 127.0.0.1 and localhost that such an authority signed. Each function
 * fails the running test, with a message, when it cannot do its work.
 */

struct testtls_ca;
struct testtls_server;

/* Return a new authority, a self-signed certificate with subject CN=cn
 * and its key; free it with testtls_ca_free. */
struct testtls_ca *testtls_ca_new(const char *cn);
/* Write the authority's certificate to path as PEM, as a CA file is. */
void testtls_ca_write(const struct testtls_ca *, const char *path);
/* Free an authority; accepts NULL. */
void testtls_ca_free(struct testtls_ca *);

/*
 * Serve cb(request, arg) over HTTPS on 127.0.0.1 at a port of the
 * system's choice, from base, with a fresh certificate for IP 127.0.0.1
 * and DNS localhost signed by ca (the chain sent is that certificate
 * alone); write the port to *port. Free the server with
 * testtls_server_free before its base.
 */
struct testtls_server *testtls_server_start(struct event_base *base,
    const struct testtls_ca *ca, void (*cb)(struct evhttp_request *, void *),
    void *arg, int *port);
/* Free the server; accepts NULL. */
/*
 * The same with a certificate for names (subjectAltName's syntax:
 * "DNS:elsewhere.example"; NULL: IP 127.0.0.1 and DNS localhost) rather
 * than the usual ones.
 */
struct testtls_server *testtls_server_start_for(struct event_base *base,
    const struct testtls_ca *ca, const char *names,
    void (*cb)(struct evhttp_request *, void *), void *arg, int *port);
void testtls_server_free(struct testtls_server *);

#endif
