/* cli_args.c - what the commands share in reading their arguments: the
 * options before the operands, numbers in a range, and one library call
 * per operand (stop, rm, snapshot rm, pool rm). */
#include "client/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Is argv[i] o's value option ("-n N" or "-nN")? Sets *i past it. */
static bool value_option(const struct leading_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *f = o->value_flag;
	if (!f || !o->value)
		return false;
	if (!strcmp(a, f) && *i + 1 < argc)
		*o->value = argv[++*i];
	else if (!strncmp(a, f, strlen(f)) && a[strlen(f)])
		*o->value = a + strlen(f) + (f[1] == '-' && a[strlen(f)] == '='); /* -n3, --size=3 */
	else
		return false;
	return true;
}

/* Is argv[i] o's flag (short or long)? Sets it. */
static bool flag_option(const struct leading_opts *o, const char *a)
{
	if (!o->set || !((o->flag && !strcmp(a, o->flag)) ||
			 (o->long_flag && !strcmp(a, o->long_flag))))
		return false;
	*o->set = true;
	return true;
}

int leading_options(struct cli *cli, int argc, char **argv, const struct leading_opts *o)
{
	static const struct leading_opts none = { 0 };
	o = o ? o : &none;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--json"))
			cli->json = true;
		else if (!flag_option(o, argv[i]) && !value_option(o, argc, argv, &i))
			return cli_usage_error("%s: unknown option %s (try %s)", argv[0], argv[i],
					       o->help ? o->help : "--help"), -1;
	}
	return i;
}

/* Options of any command that take their value as the next argument. */
static const char *const value_options[] = {
	"-e", "--env", "-w", "--workdir", "-u", "--user", "-v", "--volume", "--cpus",
	"--memory", "--label", "--timeout", "--from", "--hostname", "--platform", "--tag",
	"--type", "-n", "--min", "--max", "--idle-timeout", "--vcpus", "-p", "--publish",
	"--network", "--egress-allow", "--egress-deny", "--egress-default", NULL,
};

static bool takes_value(const char *opt)
{
	for (size_t i = 0; value_options[i]; i++)
		if (!strcmp(opt, value_options[i]))
			return true;
	return false;
}

bool asks_for_help(int argc, char **argv, bool cmd_line)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
		if (argv[i][0] == '-' && argv[i][1])
			i += takes_value(argv[i]);
		else if (cmd_line)
			return false;
	}
	return false;
}

int cli_number(const char *what, const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || !*s || *end || *out < lo || *out > hi)
		return cli_usage_error("%s %s: expected a number from %ld to %ld", what, s, lo, hi);
	return 0;
}

int cli_size_mib(const char *what, const char *s, unsigned long long lo_mib,
		 unsigned long long hi_mib, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;   /* MiB by default; k, m, g, t suffixes (binary) */
	switch (*end) {
	case 'k': case 'K': shift = 0; v = (v + 1023) / 1024; end++; break;
	case 'm': case 'M': end++; break;
	case 'g': case 'G': shift = 10; end++; break;
	case 't': case 'T': shift = 20; end++; break;
	}
	if (*end == 'i' || *end == 'I')   /* "GiB" */
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (errno || end == s || *s == '-' || *end || v > (hi_mib >> shift) ||
	    (v << shift) < lo_mib)
		return cli_usage_error("%s %s: expected a size from %llu MiB to %llu MiB (a "
				       "number of MiB, or with a suffix: 512M, 10G, 1T)", what, s,
				       lo_mib, hi_mib);
	*out = v << shift;
	return 0;
}

int act_on_each(struct cli *cli, char **names, int n, const char *missing,
		cli_action act, const void *arg)
{
	int rc = 0;
	if (n <= 0)
		return cli_usage_error("%s", missing);
	for (int i = 0; i < n; i++) {
		int st = act(cli->c, names[i], arg);
		rc = st != SM_OK ? cli_error(cli, st, names[i]) : rc;
		if (st == SM_OK)
			printf("%s\n", names[i]);
	}
	return rc;
}
