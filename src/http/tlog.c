/*
 * tlog.c - GET /tlog/...: the ledger as C2SP tlog-tiles resources, read-only
 * (ledger/tlog.c builds them): /tlog/checkpoint, /tlog/tile/L/N[.p/W],
 * /tlog/tile/entries/N[.p/W].  Any signed-in role may read them (the
 * entries are the ledger's, as confidential as /api/entries).  Full tiles
 * and bundles never change: they are served as immutable; partial ones for
 * an hour; the checkpoint is fresh every few seconds, as the spec asks.
 */
#include "http/internal.h"

#include <string.h>

void
ev_api_tlog(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	int immutable = 0, rc;
	const char *path = rq->params[0];

	rc = ev_ledger_tlog_get(rq->l, path, &rs->body, &immutable, &err);
	if (rc != EV_OK) {
		ev_buf_reset(&rs->body);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	rs->status = 200;
	if (strcmp(path, "checkpoint") == 0) {
		rs->type = "text/plain; charset=utf-8";
		rs->cache_control = "max-age=5";
	} else {
		rs->type = "application/octet-stream";
		rs->cache_control = immutable ? "private, max-age=31536000, immutable" : "max-age=3600";
	}
}
