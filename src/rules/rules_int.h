/*
 * rules_int.h - the compiled form of Sigma rules, shared by the files of
 * src/rules only (load.c builds it, match.c and corr.c run it).  Nothing
 * outside src/rules includes this header: rules.h is the interface.
 *
 * Memory: every piece of a compiled rule lives in the rule set's arena and
 * is freed at once by ev_rules_free; only PCRE2 codes and correlation group
 * state are freed one by one.
 */
#ifndef EV_RULES_RULES_INT_H
#define EV_RULES_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"
#include "util/buf.h"

/* Limits on untrusted rule input. */
#define RL_MAX_FILE_BYTES (4u << 20)  /* one rule file */
#define RL_MAX_DOCS 4096              /* YAML documents in one file */
#define RL_MAX_COND_DEPTH 64          /* nesting in a condition */
#define RL_MAX_COND_LEN 4096          /* characters in a condition */
#define RL_MAX_VALUES 4096            /* values under one field */
#define RL_MAX_CORR_REFS 64           /* rules referenced by one correlation */
#define RL_MAX_CHAIN 8                /* correlation of correlation ... depth */
#define RL_MAX_GROUPS 65536           /* live groups per correlation */
#define RL_MAX_SEQS 100               /* contributing seqs kept per group */
#define RL_SLIDE_MAX 64               /* event_count thresholds with a sliding window */
#define RL_MAX_DISTINCT 10000         /* value_count threshold evident accepts */
#define RL_MAX_DIR_DEPTH 16           /* directory recursion */
#define RL_MAX_LIT 16                 /* bytes of a literal the prefilter looks for */
#define RL_MAX_AC (32u << 20)         /* automaton entries (states x classes) */

#define RL_NONE UINT32_MAX
#define RL_ACF 0x80000000u            /* automaton entry: a literal ends here */
#define RL_FIELD_RAW 0u               /* field id 0: the keyword text (raw line) */

/* ---- arena ---- */
struct rl_chunk {
	struct rl_chunk *next;
	size_t used, cap;
	max_align_t data[];
};
struct rl_arena {
	struct rl_chunk *head;
};
void *rl_alloc(struct rl_arena *a, size_t n);            /* zeroed */
char *rl_strndup(struct rl_arena *a, const char *s, size_t n);
void rl_arena_free(struct rl_arena *a);

/* ---- values ---- */
enum rl_shape { W_EXACT, W_PREFIX, W_SUFFIX, W_CONTAINS, W_GENERAL };
enum rl_vkind { V_WILD, V_RE, V_CIDR, V_NUM, V_NULL, V_EXISTS };
enum rl_numop { N_LT, N_LTE, N_GT, N_GTE };

struct rl_val {
	enum rl_vkind kind;
	const char *text;           /* as written, for explanations */
	/* V_WILD */
	enum rl_shape shape;
	const char *lit;            /* pattern bytes (lower-cased unless cased) */
	size_t litlen;
	const unsigned char *meta;  /* W_GENERAL: 0 literal, 1 '*', 2 '?' per byte */
	int cased;
	/* V_RE */
	pcre2_code *re;
	int re_names;               /* named groups: captures for group-by */
	/* V_CIDR */
	int family;                 /* 4 or 6 */
	unsigned char net[16];
	unsigned prefix;
	/* V_NUM */
	enum rl_numop op;
	double num;
	/* V_EXISTS */
	int exists;
};

struct rl_item {
	uint32_t field;             /* field id; RL_FIELD_RAW for keywords */
	const char *key;            /* "field|mod|mod" as written */
	int all;                    /* values are ANDed */
	int neq;                    /* field present and equal to none of the values */
	size_t nval;
	struct rl_val *vals;
};

struct rl_alt {                     /* one map: items ANDed */
	size_t nitem;
	struct rl_item *items;
};

struct rl_sel {                     /* a search identifier: alternatives ORed */
	const char *name;
	unsigned line;
	size_t nalt;
	struct rl_alt *alts;
};

enum rl_cop { C_AND, C_OR, C_NOT, C_SEL };
struct rl_cnode {
	enum rl_cop op;
	uint32_t sel;
	size_t n;
	struct rl_cnode **kids;
};

/* ---- correlations ---- */
enum rl_ctype { CT_EVENT_COUNT, CT_VALUE_COUNT, CT_TEMPORAL, CT_TEMPORAL_ORDERED };

struct rl_group;

struct rl_corr {
	enum rl_ctype type;
	size_t nref;
	const char **refname;       /* as written */
	unsigned refline;
	uint32_t *ref;              /* rule indexes, resolved after loading */
	size_t ngroup;
	const char **group;         /* group-by names (aliases allowed) */
	const char ***gfield;       /* [ngroup][nref]: field to read for each rule */
	size_t nalias;
	const char **alias_name;
	const char ***alias_rule;   /* [nalias][k] rule name ... */
	const char ***alias_field;
	size_t *alias_n;
	int64_t span_us;
	const char *span_text;
	uint64_t lo, hi;            /* fire when lo <= count <= hi */
	const char *cond_text;      /* "gte 5" for explanations */
	const char *field;          /* value_count */
	/* state */
	struct rl_group **buckets;
	size_t nbuckets, ngroups;
	uint64_t feeds;
};

/* ---- rules ---- */
struct rl_rule {
	const char *id, *title, *name, *level, *status, *file;
	unsigned line;
	const char *product, *category, *service;
	const char **tags;
	size_t ntags;
	int bad;                    /* failed to load: kept only for messages */
	int generate;               /* report on its own even when referenced */
	int hidden;                 /* referenced by a correlation, not generated */
	int generate_set;
	int cstate, cdepth;         /* loading: correlation chain depth memo */
	/* detection */
	size_t nsel;
	struct rl_sel *sels;
	struct rl_cnode *cond;
	uint32_t *sel_gen;          /* per-event memo of selection results */
	unsigned char *sel_val;
	uint32_t stamp;             /* candidate de-duplication per event */
	int svc;                    /* service map index or -1 */
	/* correlation (NULL for detection rules) */
	struct rl_corr *corr;
	size_t nparents;
	uint32_t *parents;          /* correlations fed by this rule */
};

/* ---- prefilter: Aho-Corasick over literals, one automaton per field ---- */
struct rl_ac {
	uint32_t field;
	unsigned ncls;
	unsigned char cls[256];
	uint32_t nstates;
	uint32_t *delta;            /* nstates * ncls: target row | RL_ACF */
	uint32_t *term;             /* first state on the suffix chain with output */
	uint32_t *outlit;           /* literal ending at this state, or RL_NONE */
	uint32_t *dict;             /* next state on the suffix chain with output */
};

struct rl_lit {
	uint32_t field;
	char *s;
	size_t n;
	uint32_t *rules;
	size_t nrules, caprules;
};

struct rl_svc {
	char *service;
	char **names;
	size_t nnames;
	uint32_t gen;               /* per-event memo */
	int val;
};

struct ev_rules {
	struct rl_arena arena;
	struct rl_rule **rules;     /* every loaded rule (bad ones removed) */
	size_t nrules, caprules;
	size_t nloaded;             /* rules that can fire (not hidden) + hidden */
	/* field interning */
	char **fields;
	size_t nfields, capfields;
	/* per-event field cache */
	uint32_t *fc_gen;
	const char **fc_val;
	size_t *fc_len;
	size_t fc_cap;
	uint32_t gen;
	const struct ev_event *cur;
	int64_t cur_time;
	/* prefilter */
	struct rl_lit *lits;
	size_t nlits, caplits;
	struct rl_ac *acs;          /* one per field with literals */
	size_t nacs;
	struct rl_ac acall;         /* every literal: one pass over the raw line */
	uint32_t *always;
	size_t nalways;
	uint32_t *cand;
	size_t ncand, capcand;
	int compiled;
	/* regex */
	pcre2_match_data *md;       /* matching: no captures needed */
	pcre2_match_data *md_cap;   /* captures for group-by (64 groups)*/
	pcre2_match_context *mctx;  /* match and depth limits */
	pcre2_code **codes;
	size_t ncodes, capcodes;
	/* services */
	struct rl_svc *svcs;
	size_t nsvcs;
	int show_hidden;
	/* scratch */
	struct ev_buf why, group;
	uint64_t *seqbuf;
	size_t nseqbuf;
};

/* load.c */
uint32_t rl_field_id(struct ev_rules *r, const char *name);
/* match.c */
int rl_compile(struct ev_rules *r);
const char *rl_field(struct ev_rules *r, uint32_t fid, size_t *len);
int rl_eval_rule(struct ev_rules *r, struct rl_rule *ru);
void rl_explain(struct ev_rules *r, struct rl_rule *ru, struct ev_buf *out);
int rl_capture(struct ev_rules *r, struct rl_rule *ru, const char *name, struct ev_buf *out);
/* corr.c */
int rl_corr_feed(struct ev_rules *r, uint32_t corr_idx, uint32_t from_idx, unsigned depth,
    int (*cb)(const struct ev_rule_match *m, const struct ev_event *ev, void *arg), void *arg);
void rl_corr_free_state(struct rl_corr *c);

#endif
