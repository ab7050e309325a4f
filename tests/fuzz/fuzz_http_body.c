/*
 * fuzz_http_body.c - the HTTP server's body parsers: urlencoded forms (the
 * pages' POSTs) and JSON bodies checked against an incident step's field
 * list (the API's POSTs).  The first byte picks the step.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const steps[] = { "open", "classify", "assess", "escalate", "assign",
		"act", "continuity", "notify", "review", "approve", "close" };
	struct ev_http_req rq;
	struct ev_http_resp rs;

	if (size == 0)
		return 0;
	memset(&rq, 0, sizeof(rq));
	ev_buf_add(&rq.body, data + 1, size - 1);
	if (ev_http_parse_form(&rq) == 0)
		(void)ev_http_form(&rq, "csrf");
	json_decref(rq.form);
	ev_buf_free(&rq.body);

	memset(&rs, 0, sizeof(rs));
	ev_api_check_body(steps[data[0] % (sizeof(steps) / sizeof(steps[0]))], (const char *)data + 1,
	    size - 1, &rs);
	ev_buf_free(&rs.body);
	return 0;
}
