/*
 * json.c - canonical JSON through jansson (see json.h).
 */
#include "util/json.h"

#include <string.h>

#include "util/jscan.h"

#define EV_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

json_t *
ev_json_parse_object(const char *text, size_t len, struct ev_err *err)
{
	json_error_t je;
	json_t *v;

	if (len > EV_BODY_MAX) {
		ev_errf(err, EV_EINVAL, "JSON body of %zu bytes exceeds the limit of %u", len,
		    EV_BODY_MAX);
		return NULL;
	}
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL) {
		ev_errf(err, EV_EINVAL, "malformed JSON at line %d column %d: %s", je.line,
		    je.column, je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		ev_errf(err, EV_EINVAL, "JSON body must be an object");
		return NULL;
	}
	return v;
}

char *
ev_json_dump(const json_t *v)
{
	return json_dumps(v, EV_JSON_DUMP_FLAGS);
}

int
ev_json_canonical(const char *text, size_t len, struct ev_buf *out, struct ev_err *err)
{
	json_t *v;
	char *s;

	/* Fast path: text evident wrote itself is already canonical. */
	if (len <= EV_BODY_MAX && ev_jscan_canonical(text, len)) {
		ev_buf_add(out, text, len);
		return EV_OK;
	}
	v = ev_json_parse_object(text, len, err);
	if (v == NULL)
		return EV_EINVAL;
	s = ev_json_dump(v);
	json_decref(v);
	if (s == NULL)
		return ev_errf(err, EV_ENOMEM, "cannot serialise JSON");
	ev_buf_adds(out, s);
	free(s);
	return EV_OK;
}

const char *
ev_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
