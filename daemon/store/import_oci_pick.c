/* import_oci_pick.c - which image of an OCI layout an import takes.
 *
 * First by ref: the caller's ref (o->ref) must match an image's ref; the
 * REF of a NAME:REF tag narrows the choice when some image has that ref.
 * A ref matches an image's ref.name when equal to it or to its tag part
 * ("latest" matches "example.com/app:latest"). Then by platform (o->os,
 * else linux/amd64) when several images are left or a platform was asked
 * for. More than one left is refused with a message listing them.
 */
#include "import.h"
#include "err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The REF of "NAME:REF", or NULL. */
static const char *tag_ref(const char *tag)
{
	const char *colon = tag ? strrchr(tag, ':') : NULL;
	return colon && !strchr(colon, '/') && !strchr(tag, '@') ? colon + 1 : NULL;
}

static bool ref_matches(const char *have, const char *want)
{
	const char *colon = strrchr(have, ':');

	if (!*have)
		return false;
	return !strcmp(have, want) || (colon && !strchr(colon, '/') && !strcmp(colon + 1, want));
}

static void describe(const struct sm_oci_image *img, char *out, size_t len)
{
	snprintf(out, len, "%s (%s/%s%s%s)", *img->ref ? img->ref : "no ref",
		 *img->os ? img->os : "?", *img->arch ? img->arch : "?",
		 *img->variant ? "/" : "", img->variant);
}

/* "a (linux/amd64), b (linux/arm64)" for the images still in keep. */
static void list_kept(const struct sm_oci_image *img, const bool *keep, size_t n,
		      char *out, size_t len)
{
	size_t off = 0;
	char one[320];

	out[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < len; i++) {
		if (!keep[i])
			continue;
		describe(&img[i], one, sizeof one);
		int w = snprintf(out + off, len - off, "%s%s", off ? ", " : "", one);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off >= len && len > 4)
		snprintf(out + len - 4, 4, "...");
}

static size_t count(const bool *keep, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += keep[i];
	return k;
}

static int by_ref(const struct sm_oci_image *img, size_t n, const char *ref, bool strict,
		  bool *keep, char *err, size_t errlen)
{
	bool any = false;
	char avail[700];

	for (size_t i = 0; i < n; i++)
		any |= ref_matches(img[i].ref, ref);
	if (!any && strict) {
		list_kept(img, keep, n, avail, sizeof avail);
		return sm_err(err, errlen, "no image with ref \"%s\" in the layout (it holds: %s)",
			      ref, avail);
	}
	for (size_t i = 0; any && i < n; i++)
		keep[i] = ref_matches(img[i].ref, ref);
	return 0;
}

static int by_platform(const struct sm_oci_image *img, size_t n, const struct sm_pull_opts *o,
		       bool *keep, char *err, size_t errlen)
{
	const char *os = o->os ? o->os : "linux", *arch = o->arch ? o->arch : "amd64";
	int score[SM_OCI_MAX_IMAGES], best = 0;
	char avail[700];

	for (size_t i = 0; i < n; i++) {
		score[i] = keep[i] ? sm_platform_score(img[i].os, img[i].arch, img[i].variant,
						      os, arch, o->variant) : 0;
		best = score[i] > best ? score[i] : best;
	}
	if (best == 0) {
		list_kept(img, keep, n, avail, sizeof avail);
		return sm_err(err, errlen, "no image for platform %s/%s%s%s in the layout "
			      "(available: %s)", os, arch, o->variant ? "/" : "",
			      o->variant ? o->variant : "", avail);
	}
	for (size_t i = 0; i < n; i++)
		keep[i] = score[i] == best;
	return 0;
}

int sm_oci_pick(const struct sm_oci_image *img, size_t n, const struct sm_pull_opts *o,
		const char *tag, size_t *pick, char *err, size_t errlen)
{
	bool keep[SM_OCI_MAX_IMAGES];
	char avail[700];

	for (size_t i = 0; i < n; i++)
		keep[i] = true;
	if (o->ref && by_ref(img, n, o->ref, true, keep, err, errlen) < 0)
		return -1;
	if (!o->ref && tag_ref(tag))
		by_ref(img, n, tag_ref(tag), false, keep, err, errlen);
	if ((count(keep, n) > 1 || o->os) && by_platform(img, n, o, keep, err, errlen) < 0)
		return -1;
	if (count(keep, n) > 1) {
		list_kept(img, keep, n, avail, sizeof avail);
		return sm_err(err, errlen, "%zu images in the layout fit: %s; choose one by its "
			      "ref (--ref REF, or the REF of --tag NAME:REF)", count(keep, n), avail);
	}
	for (*pick = 0; !keep[*pick]; ++*pick)
		;
	return 0;
}
