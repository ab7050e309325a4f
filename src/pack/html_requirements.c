/*
 * html_requirements.c - the requirement index of index.html: for each
 * EN 319 401 requirement the pack has evidence for, the control and the
 * entries (by seq) that prove it.
 *
 * Kept in its own file so that the compliance work (src/compliance: the
 * catalogue and the control mapping) can fill it in without touching the
 * rest of the page.  Until then it appends nothing: a section that claims
 * coverage must come from the mapping, not from guesses here.
 *
 * Contract: append one complete <section id="requirements">...</section> (or
 * nothing) to out; escape every text with pack_html_escape; no script and no
 * reference outside the file.
 */
#include "pack/pack_int.h"

void
pack_html_requirements(const struct pack_view *v, struct ev_buf *out)
{
	(void)v;
	(void)out;
}
