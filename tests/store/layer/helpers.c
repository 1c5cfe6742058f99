/* helpers.c - scratch dirs, commands, mounts for the layer tests. */
#include "helpers.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *p;

	if (asprintf(&p, "%s/smlayer-XXXXXX", base) < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static char *th_run_dir;

void th_main_begin(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	th_run_dir = th_tmpdir();
	if (th_run_dir)
		setenv("TMPDIR", th_run_dir, 1);
}

void th_main_end(void)
{
	th_rmtree(th_run_dir);
	free(th_run_dir);
	th_run_dir = NULL;
}

int th_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	st = system(cmd);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Detach every mount below dir (deepest last listed first). */
static void th_umount_below(const char *dir)
{
	static char line[8192], mnts[64][4096];
	int n = 0;
	size_t len = strlen(dir);
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return;
	while (n < 64 && fgets(line, sizeof(line), f)) {
		char mp[4096];

		if (sscanf(line, "%*s %4095s", mp) == 1 &&
		    strncmp(mp, dir, len) == 0 && mp[len] == '/')
			snprintf(mnts[n++], sizeof(mnts[0]), "%s", mp);
	}
	fclose(f);
	while (n--)
		umount2(mnts[n], MNT_DETACH);
}

void th_rmtree(const char *dir)
{
	if (!dir || dir[0] != '/' || !strstr(dir, "smlayer-"))
		return;
	th_umount_below(dir);
	th_sh("rm -rf '%s'", dir);
}

const char *th_path(const char *dir, const char *rel)
{
	static char buf[64][4096];
	static int i;

	i = (i + 1) % 64;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, rel);
	return buf[i];
}

bool th_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int th_fsck(const char *img)
{
	return th_sh("fsck.erofs '%s' >/dev/null 2>&1", img);
}

int th_extract(const char *img, const char *dir)
{
	return th_sh("fsck.erofs --extract='%s' '%s' >/dev/null 2>&1", dir, img);
}

bool th_mount_erofs(const char *img, const char *mnt)
{
	mkdir(mnt, 0755);
	return th_sh("mount -t erofs -o loop,ro '%s' '%s' 2>/dev/null", img, mnt) == 0;
}

void th_umount(const char *mnt)
{
	umount2(mnt, MNT_DETACH);
}

void th_note_no_mount(void)
{
	fprintf(stderr, "note: erofs loop mounts unavailable; checked with "
		"fsck.erofs only\n");
}

long long th_nid(const char *img, const char *path)
{
	char cmd[8192], line[512];
	long long nid = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "dump.erofs --path='%s' '%s' 2>/dev/null", path, img);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "NID: %lld", &nid) == 1)
			break;
	pclose(p);
	return nid;
}

static int th_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *th_ls(const char *dir)
{
	static char out[8192];
	char *names[256];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	out[0] = 0;
	if (!d)
		return "(missing)";
	while (n < 256 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), th_strcmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, " ", sizeof(out) - strlen(out) - 1);
		strncat(out, names[i], sizeof(out) - strlen(out) - 1);
		free(names[i]);
	}
	return out;
}

int th_count_matching(const char *dir, const char *part)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strstr(de->d_name, part) != NULL;
	closedir(d);
	return n;
}
