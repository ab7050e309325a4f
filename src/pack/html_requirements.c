/*
 * html_requirements.c - the requirement index of index.html: for each
 * EN 319 401 requirement, its controls and owner (from the compliance
 * mapping) and the entries of this pack (by seq) that match the controls'
 * evidence queries.
 *
 * The matching is the compliance module's (ev_compliance_match_entries);
 * this file only draws it.  A pack holds a date range, so no cadence is
 * judged here: "evidence in this pack" or "none in this pack".  When the
 * catalogue or mapping cannot be loaded the section is left out: a section
 * that claims coverage must come from the mapping, not from guesses.
 *
 * Contract: append one complete <section id="requirements">...</section> (or
 * nothing) to out; escape every text with pack_html_escape; no script and no
 * reference outside the file.
 */
#include "pack/pack_int.h"

#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "util/json.h"

#define SEQS_SHOWN 12

static void
esc(struct ev_buf *out, const char *s)
{
	if (s)
		pack_html_escape(out, s, strlen(s));
}

void
pack_html_requirements(const struct pack_view *v, struct ev_buf *out)
{
	struct ev_compliance *c = NULL;
	struct ev_compliance_entry *e;
	char dir[4096];
	json_t *rows, *r, *x;
	size_t i, j, with = 0;

	if (ev_compliance_load(ev_compliance_default_dir(NULL, dir, sizeof(dir)), NULL, &c, NULL) !=
	    EV_OK)
		return;
	e = ev_xcalloc(v->n + 1, sizeof(*e));
	for (i = 0; i < v->n; i++) {
		e[i].seq = v->e[i].seq;
		e[i].kind = v->e[i].kind;
		e[i].subject = v->e[i].subject;
		e[i].body = v->e[i].body;
		e[i].body_len = v->e[i].body_len;
	}
	rows = ev_compliance_match_entries(c, e, v->n);
	free(e);
	json_array_foreach(rows, i, r)
		with += strcmp(ev_json_str(r, "status"), "evidenced") == 0;
	ev_buf_adds(out, "<section id=\"requirements\"><h2>Requirement index (EN 319 401)</h2><p>");
	ev_buf_addf(out, "%zu of %zu requirements have evidence in this pack (mapping ", with,
	    json_array_size(rows));
	esc(out, ev_json_str(ev_compliance_mapping(c), "version"));
	ev_buf_adds(out, "). Whether each record was on time is judged by "
			 "<code>evident compliance</code> on the ledger, not here.</p>"
			 "<table><tr><th>Requirement</th><th>Clause</th><th>Topic</th>"
			 "<th>Controls</th><th>Owner</th><th>Evidence in this pack (seq)</th></tr>");
	json_array_foreach(rows, i, r) {
		const char *st = ev_json_str(r, "status");
		json_t *seqs = json_object_get(r, "evidence");
		ev_buf_adds(out, "<tr><td>");
		esc(out, ev_json_str(r, "id"));
		ev_buf_adds(out, "</td><td>");
		esc(out, ev_json_str(r, "clause"));
		ev_buf_adds(out, "</td><td>");
		esc(out, ev_json_str(r, "topic"));
		ev_buf_adds(out, "</td><td>");
		json_array_foreach(json_object_get(r, "controls"), j, x) {
			if (j)
				ev_buf_adds(out, ", ");
			esc(out, json_string_value(x));
		}
		ev_buf_adds(out, "</td><td>");
		esc(out, ev_json_str(r, "owner"));
		ev_buf_adds(out, "</td><td>");
		if (strcmp(st, "not-applicable") == 0) {
			ev_buf_adds(out, "not applicable: ");
			esc(out, ev_json_str(r, "reason"));
		} else if (strcmp(st, "unmapped") == 0) {
			ev_buf_adds(out, "no control mapped");
		} else if (json_array_size(seqs) == 0) {
			ev_buf_adds(out, "none in this pack");
		} else {
			json_array_foreach(seqs, j, x) {
				if (j == SEQS_SHOWN) {
					ev_buf_addf(out, " and %zu more", json_array_size(seqs) - j);
					break;
				}
				ev_buf_addf(out, "%s%lld", j ? " " : "",
				    (long long)json_integer_value(x));
			}
		}
		ev_buf_adds(out, "</td></tr>");
	}
	ev_buf_adds(out, "</table></section>");
	json_decref(rows);
	ev_compliance_free(c);
}
