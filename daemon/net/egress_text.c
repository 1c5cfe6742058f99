/* egress_text.c - read a VM's policy text (egress_text.h) into a struct
 * egress_policy: split it into lines, each line into a directive and its
 * words, and hand the words to egress_policy.h's parsers; this file only
 * adds the line structure, the once-only checks and the line numbers. */
#include "daemon/net/egress_text.h"
#include "daemon/net/net_mac.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Line numbers where the once-only directives were seen (0: not yet). */
struct text_state {
	struct egress_policy *p;
	int line;
	int mac, dflt, v4, v6, override, dhcp;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct text_state *s, const char *fmt, ...)
{
	int n = s->line ? snprintf(s->err, s->errlen, "line %d: ", s->line) : 0;
	if (n < 0 || (size_t)n >= s->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A callee's message (which names its input) behind "line N: ". */
static int fail_with(struct text_state *s, const char *msg)
{
	return fail(s, "%s", msg);
}

/* The first sighting of a once-only directive: 0, or -1 if seen before. */
static int once(struct text_state *s, int *seen, const char *what)
{
	if (*seen)
		return fail(s, "a second \"%s\" (the first is on line %d)", what, *seen);
	*seen = s->line;
	return 0;
}

static int set_default(struct text_state *s, const char *arg)
{
	if (once(s, &s->dflt, "default") < 0)
		return -1;
	if (strcmp(arg, "allow") && strcmp(arg, "deny"))
		return fail(s, "default \"%s\": want allow or deny", arg);
	s->p->default_allow = !strcmp(arg, "allow");
	return 0;
}

static int set_mac(struct text_state *s, const char *arg)
{
	char msg[160];
	if (once(s, &s->mac, "mac") < 0)
		return -1;
	return net_mac_parse(arg, s->p->vm_mac, msg, sizeof msg) < 0 ? fail_with(s, msg) : 0;
}

/* One vm-address per family: the family from egress_cidr_parse, then
 * egress_policy_set_vm_address sets it (and refuses "any"). */
static int set_vm_address(struct text_state *s, const char *arg)
{
	char msg[160];
	struct egress_cidr c;
	if (egress_cidr_parse(arg, &c, msg, sizeof msg) < 0)
		return fail_with(s, msg);
	if (c.family == 4 && once(s, &s->v4, "vm-address (IPv4)") < 0)
		return -1;
	if (c.family == 6 && once(s, &s->v6, "vm-address (IPv6)") < 0)
		return -1;
	if (egress_policy_set_vm_address(s->p, arg, msg, sizeof msg) < 0)
		return fail_with(s, msg);
	return 0;
}

static int set_flag(struct text_state *s, int *seen, const char *what, unsigned flag)
{
	if (once(s, seen, what) < 0)
		return -1;
	s->p->flags |= flag;
	return 0;
}

static bool is_known(const char *word)
{
	static const char *const known[] = { "mac", "default", "vm-address", "host-block",
					     "serve", "allow", "deny" };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (!strcmp(word, known[i]))
			return true;
	}
	return false;
}

/* "serve PROTO PORT" */
static int add_served(struct text_state *s, const char *proto, const char *port)
{
	char msg[200];
	if (!port)
		return fail(s, "\"serve\" wants two words after it: tcp|udp PORT");
	if (egress_policy_add_served(s->p, proto, port, msg, sizeof msg) < 0)
		return fail_with(s, msg);
	return 0;
}

/* Directive word (arg, arg2: the words after it, or NULL where there
 * are fewer; only serve has an arg2). */
static int directive(struct text_state *s, const char *word, const char *arg,
		     const char *arg2)
{
	char msg[200];
	bool flag = !strcmp(word, "override-builtin") || !strcmp(word, "allow-dhcp");
	if (flag && arg)
		return fail(s, "\"%s\" takes no argument, not \"%s\"", word, arg);
	if (!strcmp(word, "override-builtin"))
		return set_flag(s, &s->override, word, EGRESS_RULES_OVERRIDE_BUILTIN);
	if (!strcmp(word, "allow-dhcp"))
		return set_flag(s, &s->dhcp, word, EGRESS_ALLOW_DHCP);
	if (!is_known(word))
		return fail(s, "unknown directive \"%s\" (mac, default, vm-address, host-block, "
			    "serve, allow, deny, override-builtin, allow-dhcp)", word);
	if (!arg)
		return fail(s, "\"%s\" wants %s after it", word,
			    strcmp(word, "serve") ? "one word" : "two words");
	if (!strcmp(word, "serve"))
		return add_served(s, arg, arg2);
	if (!strcmp(word, "mac"))
		return set_mac(s, arg);
	if (!strcmp(word, "default"))
		return set_default(s, arg);
	if (!strcmp(word, "vm-address"))
		return set_vm_address(s, arg);
	int r = !strcmp(word, "host-block") ?
			egress_policy_add_host_block(s->p, arg, msg, sizeof msg) :
			egress_policy_add_rule(s->p, !strcmp(word, "allow"), arg, msg, sizeof msg);
	return r < 0 ? fail_with(s, msg) : 0;
}

static char *skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *word_end(char *p)
{
	while (*p && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* The next word at *p (NUL-terminated in place), *p moved past it and
 * the blanks after it; NULL if none is left. */
static char *next_word(char **p)
{
	char *w = skip_blanks(*p);
	if (!*w)
		return NULL;
	char *end = word_end(w);
	*p = skip_blanks(end);
	*end = 0;
	return w;
}

/* One line (NUL-terminated, no '\n'): a comment, blank, or a directive
 * with at most one word after it (two for serve). */
static int parse_line(struct text_state *s, char *line)
{
	char *p = skip_blanks(line);
	if (!*p || *p == '#')
		return 0;
	char *word = next_word(&p);
	char *arg = next_word(&p);
	bool serve = !strcmp(word, "serve");
	char *arg2 = serve ? next_word(&p) : NULL;
	if (*p)
		return fail(s, "\"%s\" takes %s, but more follow \"%s%s%s\": \"%s\"", word,
			    serve ? "two words" : "one word", arg, serve ? " " : "",
			    serve ? arg2 : "", p);
	return directive(s, word, arg, arg2);
}

/* The line [text, text + len) into buf, checked for size and NUL bytes. */
static int take_line(struct text_state *s, const char *text, size_t len, char *buf)
{
	if (len > EGRESS_TEXT_LINE_MAX)
		return fail(s, "%zu bytes long (at most %d)", len, EGRESS_TEXT_LINE_MAX);
	if (memchr(text, 0, len))
		return fail(s, "a NUL byte");
	memcpy(buf, text, len);
	buf[len] = 0;
	return 0;
}

static int check_required(struct text_state *s)
{
	s->line = 0;
	if (!s->mac)
		return fail(s, "no \"mac\" line: the policy must name the VM's MAC");
	if (!s->dflt)
		return fail(s, "no \"default\" line: the policy must say allow or deny");
	return 0;
}

int egress_text_parse(const char *text, size_t len, struct egress_policy *p, char *err,
		      size_t errlen)
{
	static const uint8_t none[6];
	struct text_state s = { .p = p, .err = err, .errlen = errlen };
	char buf[EGRESS_TEXT_LINE_MAX + 1];
	egress_policy_init(p, none, false, 0);
	if (len > EGRESS_TEXT_MAX)
		return fail(&s, "the policy is %zu bytes (at most %d)", len, EGRESS_TEXT_MAX);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		s.line++;
		if (take_line(&s, text + pos, n, buf) < 0 || parse_line(&s, buf) < 0)
			return -1;
		pos += n + (nl != NULL);
	}
	return check_required(&s);
}
