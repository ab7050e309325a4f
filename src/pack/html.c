/*
 * html.c - index.html of an evidence pack: what an assessor reads first.
 *
 * One self-contained page: inline CSS, charts as inline SVG drawn here, no
 * script, no font, image or link that leaves the file, so it renders the
 * same offline in any browser years from now.  Every text that comes from
 * an entry is escaped.  The page is a view: it states what the pack holds;
 * the proofs are in the other members and `evident pack verify` checks them.
 */
#include "pack/pack_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

#define ROWS_PER_KIND 2000 /* longer groups are cut; entries.jsonl has them all */
#define BODY_SHOWN 300
#define WEEK_US (7LL * 86400 * 1000000)
#define HOUR_US (3600LL * 1000000)

void
pack_html_escape(struct ev_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': ev_buf_adds(out, "&amp;"); break;
		case '<': ev_buf_adds(out, "&lt;"); break;
		case '>': ev_buf_adds(out, "&gt;"); break;
		case '"': ev_buf_adds(out, "&quot;"); break;
		case '\'': ev_buf_adds(out, "&#39;"); break;
		default: ev_buf_addc(out, s[i]);
		}
	}
}

static void
esc(struct ev_buf *out, const char *s)
{
	pack_html_escape(out, s, strlen(s));
}

static void
time_cell(struct ev_buf *out, int64_t us)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(us, t);
	/* Seconds are enough on the page; the leaf keeps the microseconds. */
	ev_buf_add(out, t, 10);
	ev_buf_addc(out, ' ');
	ev_buf_add(out, t + 11, 8);
}

/* A body shortened for a table cell, on a UTF-8 boundary. */
static void
body_cell(struct ev_buf *out, const char *b, size_t n)
{
	size_t m = n;

	if (m > BODY_SHOWN) {
		m = BODY_SHOWN;
		while (m > 0 && ((unsigned char)b[m] & 0xc0) == 0x80)
			m--;
	}
	ev_buf_adds(out, "<code>");
	pack_html_escape(out, b, m);
	if (m < n)
		ev_buf_adds(out, "&hellip;");
	ev_buf_adds(out, "</code>");
}

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
	"color:#1b1f24;background:#f6f7f9}"
	"header{background:#1d3557;color:#fff;padding:18px 32px}"
	"header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}"
	"main{padding:8px 32px 40px;max-width:1200px}"
	"section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 18px;"
	"margin:16px 0}"
	"h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{text-align:left;border-bottom:1px solid #eceff2;padding:4px 6px;vertical-align:top}"
	"th{background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"code{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}"
	"dt{color:#57606a}dd{margin:0}"
	".warn{color:#8a1c1c;font-weight:600}.muted{color:#57606a}"
	"nav a{margin-right:14px;color:#1d3557}"
	"details summary{cursor:pointer;font-weight:600;margin:6px 0}"
	"svg text{font:11px system-ui,sans-serif;fill:#1b1f24}";

/* ---- counting helpers ---- */

struct count {
	const char *name;
	size_t n;
};

static int
cmp_count_name(const void *a, const void *b)
{
	return strcmp(((const struct count *)a)->name, ((const struct count *)b)->name);
}

/* Distinct kinds with counts, sorted by name; caller frees. */
static struct count *
kind_counts(const struct pack_view *v, size_t *nk)
{
	struct count *c = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < v->n; i++) {
		size_t j;
		for (j = 0; j < n; j++)
			if (strcmp(c[j].name, v->e[i].kind) == 0)
				break;
		if (j == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				c = ev_xrealloc(c, cap * sizeof(*c));
			}
			c[n].name = v->e[i].kind;
			c[n++].n = 0;
		}
		c[j].n++;
	}
	if (n)
		qsort(c, n, sizeof(*c), cmp_count_name);
	*nk = n;
	return c;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- charts ---- */

/* Bars per week for two series (alerts raised, incidents opened). */
static void
chart_weekly(const struct pack_view *v, struct ev_buf *out)
{
	int64_t lo = v->from_us, hi = v->to_us, width;
	size_t nb, *a, *b, maxv = 1;
	const int W = 1000, H = 240, L = 40, B = 40, T = 20;

	if (v->n == 0)
		return;
	/*
	 * The selected range, but never more than a year beyond the entries
	 * (an open-ended selection would otherwise draw centuries of weeks).
	 */
	if (!lo || lo > v->e[0].time_us || v->e[0].time_us - lo > 366 * 86400LL * 1000000)
		lo = v->e[0].time_us;
	if (!hi || hi < v->e[v->n - 1].time_us || hi - v->e[v->n - 1].time_us > 366 * 86400LL * 1000000)
		hi = v->e[v->n - 1].time_us;
	/* Weeks start on Monday 00:00 UTC (1970-01-05 was a Monday). */
	{
		int64_t mon = 4LL * 86400 * 1000000;
		int64_t k = (lo - mon) / WEEK_US;
		if ((lo - mon) < 0 && (lo - mon) % WEEK_US)
			k--;
		lo = mon + k * WEEK_US;
	}
	width = WEEK_US;
	nb = (size_t)((hi - lo) / width) + 1;
	while (nb > 104) { /* more than two years of weeks: widen the buckets */
		width *= 2;
		nb = (size_t)((hi - lo) / width) + 1;
	}
	a = ev_xcalloc(nb, sizeof(*a));
	b = ev_xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < v->n; i++) {
		size_t k;
		if (v->e[i].time_us < lo)
			continue;
		k = (size_t)((v->e[i].time_us - lo) / width);
		if (k >= nb)
			continue;
		if (strcmp(v->e[i].kind, "alert.raised") == 0)
			a[k]++;
		else if (strcmp(v->e[i].kind, "incident.opened") == 0)
			b[k]++;
	}
	for (size_t k = 0; k < nb; k++) {
		if (a[k] > maxv)
			maxv = a[k];
		if (b[k] > maxv)
			maxv = b[k];
	}
	ev_buf_addf(out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
	    "aria-label=\"Alerts and incidents per %s\">",
	    W, H, width == WEEK_US ? "week" : "period");
	ev_buf_addf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", L,
	    H - B, W - 10, H - B);
	ev_buf_addf(out, "<text x=\"4\" y=\"%d\">%zu</text><text x=\"4\" y=\"%d\">0</text>", T + 4,
	    maxv, H - B);
	{
		double slot = (double)(W - L - 10) / (double)nb;
		double bw = slot * 0.4 > 36 ? 36 : slot * 0.4;
		for (size_t k = 0; k < nb; k++) {
			double x = L + slot * (double)k + slot * 0.1;
			double ha = (double)(H - B - T) * (double)a[k] / (double)maxv;
			double hb = (double)(H - B - T) * (double)b[k] / (double)maxv;
			char t[EV_TIME_STRLEN];
			ev_buf_addf(out,
			    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e76f51\">"
			    "<title>%zu alerts</title></rect>",
			    x, (double)(H - B) - ha, bw, ha, a[k]);
			ev_buf_addf(out,
			    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#264653\">"
			    "<title>%zu incidents</title></rect>",
			    x + bw, (double)(H - B) - hb, bw, hb, b[k]);
			if (nb <= 16 || k % ((nb + 15) / 16) == 0) {
				ev_time_format(lo + (int64_t)k * width, t);
				t[10] = '\0';
				ev_buf_addf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>", x, H - B + 14,
				    nb <= 8 ? t : t + 5);
			}
		}
	}
	ev_buf_addf(out,
	    "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#e76f51\"/>"
	    "<text x=\"%d\" y=\"%d\">alerts raised</text>"
	    "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#264653\"/>"
	    "<text x=\"%d\" y=\"%d\">incidents opened</text></svg>",
	    L, H - 14, L + 14, H - 5, L + 130, H - 14, L + 144, H - 5);
	free(a);
	free(b);
}

struct incident {
	const char *id;
	int64_t opened, classified, notified, closed; /* 0: not in the pack */
	size_t first, count;
};

/* Incidents (subjects inc-*), in order of first appearance. */
static struct incident *
incidents_of(const struct pack_view *v, size_t *ni)
{
	struct incident *in = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < v->n; i++) {
		const struct pack_entry *e = &v->e[i];
		size_t j;
		if (!starts(e->subject, "inc-"))
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(in[j].id, e->subject) == 0)
				break;
		if (j == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				in = ev_xrealloc(in, cap * sizeof(*in));
			}
			memset(&in[n], 0, sizeof(*in));
			in[n].id = e->subject;
			in[n].first = i;
			n++;
		}
		in[j].count++;
		if (strcmp(e->kind, "incident.opened") == 0 && !in[j].opened)
			in[j].opened = e->time_us;
		else if (strcmp(e->kind, "incident.classified") == 0 && !in[j].classified)
			in[j].classified = e->time_us;
		else if (strcmp(e->kind, "incident.notified") == 0 && !in[j].notified)
			in[j].notified = e->time_us;
		else if (strcmp(e->kind, "incident.closed") == 0 && !in[j].closed)
			in[j].closed = e->time_us;
	}
	*ni = n;
	return in;
}

/* A duration as people read it: seconds, minutes, hours or days. */
static void
duration(struct ev_buf *out, int64_t us)
{
	double s = (double)us / 1e6;

	if (s < 60)
		ev_buf_addf(out, "%.0f s", s);
	else if (s < 3600)
		ev_buf_addf(out, "%.0f min", s / 60);
	else if (s < 48 * 3600)
		ev_buf_addf(out, "%.1f h", s / 3600);
	else
		ev_buf_addf(out, "%.1f d", s / 86400);
}

static void
hours(struct ev_buf *out, int64_t from, int64_t to)
{
	if (!from || !to)
		ev_buf_adds(out, "<span class=\"muted\">&ndash;</span>");
	else
		duration(out, to - from);
}

/* Horizontal bars: hours from opened to classified, notified, closed, per incident. */
static void
chart_durations(const struct incident *in, size_t ni, struct ev_buf *out)
{
	const int W = 1000, L = 150, row = 42;
	double maxh = 1.0 / 3600; /* one second: the scale never divides by zero */
	size_t shown = 0;
	static const char *const color[3] = { "#2a9d8f", "#e9c46a", "#264653" };
	static const char *const label[3] = { "to classify", "to notify", "to close" };

	for (size_t i = 0; i < ni; i++) {
		int64_t t[3] = { in[i].classified, in[i].notified, in[i].closed };
		if (!in[i].opened)
			continue;
		for (int k = 0; k < 3; k++)
			if (t[k] && (double)(t[k] - in[i].opened) / (double)HOUR_US > maxh)
				maxh = (double)(t[k] - in[i].opened) / (double)HOUR_US;
		shown++;
	}
	if (shown == 0) {
		ev_buf_adds(out, "<p class=\"muted\">No incident in this pack has both an "
				 "incident.opened entry and a later stage.</p>");
		return;
	}
	ev_buf_addf(out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\" "
	    "aria-label=\"Hours to classify, notify and close per incident\">",
	    W, shown * (size_t)row + 40);
	shown = 0;
	for (size_t i = 0; i < ni; i++) {
		int64_t t[3] = { in[i].classified, in[i].notified, in[i].closed };
		int y;
		if (!in[i].opened)
			continue;
		y = 10 + (int)shown * row;
		ev_buf_addf(out, "<text x=\"4\" y=\"%d\">", y + 20);
		esc(out, in[i].id);
		ev_buf_adds(out, "</text>");
		for (int k = 0; k < 3; k++) {
			double h = t[k] ? (double)(t[k] - in[i].opened) / (double)HOUR_US : 0;
			double w = h / maxh * (double)(W - L - 90);
			if (!t[k])
				continue;
			if (w < 1)
				w = 1;
			ev_buf_addf(out,
			    "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"11\" fill=\"%s\">"
			    "<title>%s: ",
			    L, y + k * 12, w, color[k], label[k]);
			duration(out, t[k] - in[i].opened);
			ev_buf_addf(out, "</title></rect><text x=\"%.1f\" y=\"%d\">%s ",
			    (double)L + w + 4, y + k * 12 + 10, label[k]);
			duration(out, t[k] - in[i].opened);
			ev_buf_adds(out, "</text>");
		}
		shown++;
	}
	for (int k = 0; k < 3; k++)
		ev_buf_addf(out,
		    "<rect x=\"%d\" y=\"%zu\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		    "<text x=\"%d\" y=\"%zu\">%s</text>",
		    L + k * 140, shown * (size_t)row + 22, color[k], L + k * 140 + 14,
		    shown * (size_t)row + 31, label[k]);
	ev_buf_adds(out, "</svg>");
}

/* ---- sections ---- */

static void
section_summary(const struct pack_view *v, struct ev_buf *out)
{
	char root[65], t[EV_TIME_STRLEN];

	ev_buf_adds(out, "<section id=\"summary\"><h2>Pack summary</h2><dl>");
	ev_buf_adds(out, "<dt>Selection</dt><dd>");
	esc(out, v->selection_text ? v->selection_text : "");
	ev_buf_adds(out, "</dd><dt>Created</dt><dd>");
	ev_time_format(v->created_us, t);
	esc(out, t);
	ev_buf_addf(out, "</dd><dt>Entries</dt><dd>%zu</dd>", v->n);
	if (v->n) {
		ev_buf_adds(out, "<dt>First entry</dt><dd>");
		time_cell(out, v->e[0].time_us);
		ev_buf_addf(out, " (seq %llu)</dd><dt>Last entry</dt><dd>",
		    (unsigned long long)v->e[0].seq);
		time_cell(out, v->e[v->n - 1].time_us);
		ev_buf_addf(out, " (seq %llu)</dd>", (unsigned long long)v->e[v->n - 1].seq);
	}
	ev_buf_addf(out, "<dt>Evidence files</dt><dd>%zu", v->evidence_files);
	if (v->nevidence_missing) {
		ev_buf_addf(out, " <span class=\"warn\">(%zu referenced but absent from the data "
				 "directory:", v->nevidence_missing);
		for (size_t i = 0; i < v->nevidence_missing; i++) {
			ev_buf_adds(out, " <code>");
			esc(out, v->evidence_missing[i]);
			ev_buf_adds(out, "</code>");
		}
		ev_buf_adds(out, ")</span>");
	}
	ev_buf_adds(out, "</dd></dl></section>");

	ev_hex_encode(v->cp->root, 32, root);
	ev_time_format(v->cp->time_us, t);
	ev_buf_adds(out, "<section id=\"checkpoint\"><h2>Checkpoint</h2><dl>");
	ev_buf_addf(out, "<dt>Tree size</dt><dd>%llu entries</dd>", (unsigned long long)v->cp->size);
	ev_buf_addf(out, "<dt>Root hash</dt><dd><code>%s</code></dd>", root);
	ev_buf_addf(out, "<dt>Signed at</dt><dd>%s</dd>", t);
	ev_buf_addf(out, "<dt>Key id</dt><dd><code>%s</code></dd>", v->cp->key_id);
	ev_buf_addf(out, "<dt>Recorded as</dt><dd>entry %llu%s</dd>", (unsigned long long)v->cp->seq,
	    v->fresh_checkpoint ? " (made for this pack)" : "");
	ev_buf_adds(out, "<dt>RFC 3161 time-stamp</dt><dd>");
	if (v->timestamp_gen_time) {
		ev_buf_adds(out, "token in <code>timestamp.tsr</code>, time ");
		esc(out, v->timestamp_gen_time);
	} else {
		ev_buf_adds(out, "<span class=\"muted\">none for this checkpoint</span>");
	}
	ev_buf_adds(out, "</dd><dt>Consistency</dt><dd>");
	if (v->has_consistency)
		ev_buf_addf(out, "proof from the previous pack's checkpoint (size %llu) in "
				 "<code>consistency.json</code>",
		    (unsigned long long)v->previous_size);
	else
		ev_buf_adds(out, "<span class=\"muted\">no previous pack</span>");
	ev_buf_adds(out, "</dd></dl><p>Every entry in this pack is its exact leaf (one line of "
			 "<code>entries.jsonl</code>) with an RFC 9162 inclusion proof against this "
			 "signed tree head (<code>proofs.jsonl</code>). Check everything offline with "
			 "<code>evident pack verify</code>, or with any RFC 9162 and Ed25519 "
			 "implementation as <code>docs/pack-format.md</code> describes.</p></section>");
}

static void
section_counts(const struct pack_view *v, const struct count *c, size_t nk, struct ev_buf *out)
{
	ev_buf_adds(out, "<section id=\"counts\"><h2>Entries per kind</h2><table>"
			 "<tr><th>Kind</th><th>Entries</th></tr>");
	for (size_t i = 0; i < nk; i++) {
		ev_buf_adds(out, "<tr><td><a href=\"#kind-");
		esc(out, c[i].name);
		ev_buf_adds(out, "\">");
		esc(out, c[i].name);
		ev_buf_addf(out, "</a></td><td class=\"n\">%zu</td></tr>", c[i].n);
	}
	ev_buf_addf(out, "<tr><th>Total</th><th class=\"n\">%zu</th></tr></table></section>", v->n);
}

static void
section_charts(const struct pack_view *v, const struct incident *in, size_t ni,
    struct ev_buf *out)
{
	ev_buf_adds(out, "<section id=\"charts\"><h2>Alerts and incidents per week</h2>");
	chart_weekly(v, out);
	ev_buf_adds(out, "<h3>Time to classify, notify and close</h3>");
	chart_durations(in, ni, out);
	ev_buf_adds(out, "</section>");
}

static void
section_incidents(const struct pack_view *v, const struct incident *in, size_t ni,
    struct ev_buf *out)
{
	ev_buf_addf(out, "<section id=\"incidents\"><h2>Incidents (%zu)</h2>", ni);
	if (ni == 0) {
		ev_buf_adds(out, "<p class=\"muted\">No incident entries in this pack.</p></section>");
		return;
	}
	ev_buf_adds(out, "<table><tr><th>Incident</th><th>Opened</th><th>To classify</th>"
			 "<th>To notify</th><th>To close</th><th>Entries</th></tr>");
	for (size_t i = 0; i < ni; i++) {
		ev_buf_adds(out, "<tr><td><a href=\"#");
		esc(out, in[i].id);
		ev_buf_adds(out, "\">");
		esc(out, in[i].id);
		ev_buf_adds(out, "</a></td><td>");
		if (in[i].opened)
			time_cell(out, in[i].opened);
		else
			ev_buf_adds(out, "<span class=\"muted\">before this pack</span>");
		ev_buf_adds(out, "</td><td>");
		hours(out, in[i].opened, in[i].classified);
		ev_buf_adds(out, "</td><td>");
		hours(out, in[i].opened, in[i].notified);
		ev_buf_adds(out, "</td><td>");
		hours(out, in[i].opened, in[i].closed);
		ev_buf_addf(out, "</td><td class=\"n\">%zu</td></tr>", in[i].count);
	}
	ev_buf_adds(out, "</table>");
	for (size_t i = 0; i < ni; i++) {
		ev_buf_adds(out, "<h3 id=\"");
		esc(out, in[i].id);
		ev_buf_adds(out, "\">Timeline of ");
		esc(out, in[i].id);
		ev_buf_adds(out, "</h3><table><tr><th>Time</th><th>Seq</th><th>Step</th><th>Actor</th>"
				 "<th>Record</th></tr>");
		for (size_t k = in[i].first; k < v->n; k++) {
			const struct pack_entry *e = &v->e[k];
			if (strcmp(e->subject, in[i].id) != 0)
				continue;
			ev_buf_adds(out, "<tr><td>");
			time_cell(out, e->time_us);
			ev_buf_addf(out, "</td><td class=\"n\">%llu</td><td>", (unsigned long long)e->seq);
			esc(out, e->kind);
			ev_buf_adds(out, "</td><td>");
			esc(out, e->actor);
			ev_buf_adds(out, "</td><td>");
			body_cell(out, e->body, e->body_len);
			ev_buf_adds(out, "</td></tr>");
		}
		ev_buf_adds(out, "</table>");
	}
	ev_buf_adds(out, "</section>");
}

static void
section_alerts(const struct pack_view *v, struct ev_buf *out)
{
	size_t n = 0, shown = 0;

	for (size_t i = 0; i < v->n; i++)
		if (starts(v->e[i].kind, "alert."))
			n++;
	ev_buf_addf(out, "<section id=\"alerts\"><h2>Alerts (%zu entries)</h2>", n);
	if (n == 0) {
		ev_buf_adds(out, "<p class=\"muted\">No alert entries in this pack.</p></section>");
		return;
	}
	ev_buf_adds(out, "<table><tr><th>Time</th><th>Seq</th><th>Kind</th><th>Alert</th>"
			 "<th>Actor</th><th>Record</th></tr>");
	for (size_t i = 0; i < v->n && shown < ROWS_PER_KIND; i++) {
		const struct pack_entry *e = &v->e[i];
		if (!starts(e->kind, "alert."))
			continue;
		ev_buf_adds(out, "<tr><td>");
		time_cell(out, e->time_us);
		ev_buf_addf(out, "</td><td class=\"n\">%llu</td><td>", (unsigned long long)e->seq);
		esc(out, e->kind);
		ev_buf_adds(out, "</td><td>");
		esc(out, e->subject);
		ev_buf_adds(out, "</td><td>");
		esc(out, e->actor);
		ev_buf_adds(out, "</td><td>");
		body_cell(out, e->body, e->body_len);
		ev_buf_adds(out, "</td></tr>");
		shown++;
	}
	ev_buf_adds(out, "</table>");
	if (shown < n)
		ev_buf_addf(out, "<p class=\"muted\">%zu more in entries.jsonl.</p>", n - shown);
	ev_buf_adds(out, "</section>");
}

static void
section_entries(const struct pack_view *v, const struct count *c, size_t nk, struct ev_buf *out)
{
	ev_buf_adds(out, "<section id=\"entries\"><h2>Entries by kind</h2>");
	for (size_t k = 0; k < nk; k++) {
		size_t shown = 0;
		ev_buf_adds(out, "<details open id=\"kind-");
		esc(out, c[k].name);
		ev_buf_adds(out, "\"><summary>");
		esc(out, c[k].name);
		ev_buf_addf(out, " (%zu)</summary><table><tr><th>Seq</th><th>Time</th><th>Subject</th>"
				 "<th>Actor</th><th>Body</th></tr>", c[k].n);
		for (size_t i = 0; i < v->n && shown < ROWS_PER_KIND; i++) {
			const struct pack_entry *e = &v->e[i];
			if (strcmp(e->kind, c[k].name) != 0)
				continue;
			ev_buf_addf(out, "<tr><td class=\"n\">%llu</td><td>", (unsigned long long)e->seq);
			time_cell(out, e->time_us);
			ev_buf_adds(out, "</td><td>");
			esc(out, e->subject);
			ev_buf_adds(out, "</td><td>");
			esc(out, e->actor);
			ev_buf_adds(out, "</td><td>");
			body_cell(out, e->body, e->body_len);
			ev_buf_adds(out, "</td></tr>");
			shown++;
		}
		ev_buf_adds(out, "</table>");
		if (shown < c[k].n)
			ev_buf_addf(out, "<p class=\"muted\">%zu more in entries.jsonl.</p>",
			    c[k].n - shown);
		ev_buf_adds(out, "</details>");
	}
	ev_buf_adds(out, "</section>");
}

static void
section_files(struct ev_buf *out)
{
	ev_buf_adds(out,
	    "<section id=\"files\"><h2>What is in this pack</h2><table>"
	    "<tr><th>File</th><th>Holds</th></tr>"
	    "<tr><td><code>manifest.json</code></td><td>SHA-256 and size of every other file; "
	    "signed in <code>manifest.sig</code> (Ed25519, installation key)</td></tr>"
	    "<tr><td><code>checkpoint.json</code></td><td>the signed tree head the pack is cut at"
	    "</td></tr>"
	    "<tr><td><code>entries.jsonl</code></td><td>the selected entries, one leaf per line, "
	    "byte for byte what the tree hashes</td></tr>"
	    "<tr><td><code>proofs.jsonl</code></td><td>an RFC 9162 inclusion proof per entry, "
	    "same order</td></tr>"
	    "<tr><td><code>consistency.json</code></td><td>(when present) consistency proof from "
	    "the previous pack's checkpoint</td></tr>"
	    "<tr><td><code>timestamp.tsr</code></td><td>(when present) RFC 3161 time-stamp "
	    "response over SHA-256 of the checkpoint note</td></tr>"
	    "<tr><td><code>public-key.pem</code></td><td>the Ed25519 key that signs checkpoints "
	    "and the manifest</td></tr>"
	    "<tr><td><code>evidence/&lt;sha256&gt;</code></td><td>evidence files referenced by "
	    "entries, named by their hash</td></tr></table></section>");
}

void
pack_html_render(const struct pack_view *v, struct ev_buf *out)
{
	struct count *c;
	struct incident *in;
	size_t nk, ni;
	char t1[EV_TIME_STRLEN], t2[EV_TIME_STRLEN];

	c = kind_counts(v, &nk);
	in = incidents_of(v, &ni);
	ev_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta name=\"viewport\" content=\"width=device-width\">"
			 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
			 "style-src 'unsafe-inline'; img-src data:\">"
			 "<title>Evidence pack</title><style>");
	ev_buf_adds(out, css);
	ev_buf_adds(out, "</style></head><body><header><h1>Evidence pack</h1><p>");
	if (v->from_us && v->to_us) {
		ev_time_format(v->from_us, t1);
		ev_time_format(v->to_us, t2);
		ev_buf_addf(out, "Entries from %.10s to %.10s, ", t1, t2);
	}
	ev_buf_addf(out, "cut at checkpoint of %llu entries, key %s</p></header><main>",
	    (unsigned long long)v->cp->size, v->cp->key_id);
	ev_buf_adds(out, "<nav><a href=\"#summary\">Summary</a><a href=\"#checkpoint\">Checkpoint"
			 "</a><a href=\"#counts\">Counts</a><a href=\"#charts\">Charts</a>"
			 "<a href=\"#incidents\">Incidents</a><a href=\"#alerts\">Alerts</a>"
			 "<a href=\"#entries\">Entries</a><a href=\"#files\">Files</a></nav>");
	section_summary(v, out);
	section_counts(v, c, nk, out);
	section_charts(v, in, ni, out);
	section_incidents(v, in, ni, out);
	section_alerts(v, out);
	pack_html_requirements(v, out);
	section_entries(v, c, nk, out);
	section_files(out);
	ev_buf_adds(out, "</main></body></html>\n");
	free(c);
	free(in);
}
