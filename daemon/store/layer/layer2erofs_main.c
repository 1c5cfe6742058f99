/* layer2erofs_main.c - command-line front end to layer_convert().
 *
 *   sm-layer2erofs [--max-file-size BYTES] LAYER_BLOB OUT.erofs
 *
 * Converts one layer tar (plain, gzip or zstd) to an erofs image and
 * prints the conversion stats as one line of key=value pairs. For tests,
 * benchmarks and debugging; the daemon calls layer_convert() directly.
 */
#include "layer_convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
	fprintf(stderr, "usage: sm-layer2erofs [--max-file-size BYTES] "
		"LAYER_BLOB OUT.erofs\n");
}

int main(int argc, char **argv)
{
	struct layer_limits lim = { 0 };
	struct layer_stats st;
	char err[512];
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--max-file-size") == 0) {
		lim.max_file_size = strtoull(argv[2], NULL, 0);
		i = 3;
	}
	if (argc - i != 2) {
		usage();
		return 2;
	}
	if (layer_convert_ex(argv[i], argv[i + 1], &lim, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "sm-layer2erofs: %s\n", err);
		return 1;
	}
	printf("entries=%llu inodes=%llu bytes_in=%llu image_bytes=%llu "
	       "neutralised=%llu whiteouts=%llu opaque_dirs=%llu\n",
	       (unsigned long long)st.entries, (unsigned long long)st.inodes,
	       (unsigned long long)st.bytes_in, (unsigned long long)st.image_bytes,
	       (unsigned long long)st.neutralised, (unsigned long long)st.whiteouts,
	       (unsigned long long)st.opaque_dirs);
	return 0;
}
