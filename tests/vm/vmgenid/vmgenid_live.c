/* vmgenid_live.c - vmgenid_regenerate() against a running guest.
 *
 *   vmgenid-live KERNEL INITRD CONSOLE_LOG
 *
 * Boots KERNEL (ours: CONFIG_VMGENID) with INITRD, whose /init prints
 * "vmgenid-test: ready" once the kernel's RNG is ready and then sleeps,
 * and watches the console. A new ID written without the GED interrupt
 * must go unnoticed; then each vmgenid_regenerate() (a new ID and an edge
 * on the GED's GSI, as after a restore) must make the guest kernel print
 * "crng reseeded due to virtual machine fork": its GED driver ran _EVT,
 * whose Notify reached the vmgenid driver, which saw a new ID and called
 * add_vmfork_randomness. Exit 0 on success, 1 with a message otherwise.
 */
#include "daemon/vm/vm.h"
#include "daemon/vm/vmgenid.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READY  "vmgenid-test: ready"
#define RESEED "crng reseeded due to virtual machine fork"

static const char *log_path;

static int count_in_log(const char *needle)
{
	static char buf[1 << 20];
	FILE *f = fopen(log_path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	for (size_t i = 0; i < n; i++) /* the console log may hold NULs */
		if (!buf[i])
			buf[i] = ' ';
	int k = 0;
	for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
		k++;
	return k;
}

/* Waits until needle appears `want` times; 0, or -1 after secs. */
static int wait_for(const char *needle, int want, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		if (count_in_log(needle) >= want)
			return 0;
		usleep(100000);
	}
	return -1;
}

static void *run_vm(void *vm)
{
	struct vm_err err = { "" };
	enum vm_outcome o = vm_run(vm, &err);
	fprintf(stderr, "vmgenid-live: VM ended: %s: %s\n", vm_outcome_name(o), err.msg);
	return NULL;
}

static int fail(const char *what)
{
	fprintf(stderr, "vmgenid-live: FAIL: %s (console: %s)\n", what, log_path);
	return 1;
}

/* The checks, once the VM runs. */
static int check(struct vm *vm)
{
	struct vm_err err = { "" };
	uint8_t id[VMGENID_SIZE];
	if (wait_for(READY, 1, 600))
		return fail("no ready line from the guest within 600 s");
	if (count_in_log(RESEED))
		return fail("a reseed before any new ID");
	if (vmgenid_write(&vm->mem, VMGENID_ADDR, id, &err) < 0)
		return fail(err.msg);
	sleep(3);
	if (count_in_log(RESEED))
		return fail("the guest reseeded without the GED interrupt");
	for (int i = 1; i <= 3; i++) {
		if (vmgenid_regenerate(vm, &err) < 0)
			return fail(err.msg);
		if (wait_for(RESEED, i, 120))
			return fail("no reseed message after vmgenid_regenerate");
		printf("vmgenid-live: regenerate %d: the guest reseeded\n", i);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: vmgenid-live KERNEL INITRD CONSOLE_LOG\n");
		return 2;
	}
	log_path = argv[3];
	struct vm_config cfg = { .kernel = argv[1], .initrd = argv[2], .vcpus = 1,
				 .mem_bytes = 128ULL << 20, .console_log = argv[3],
				 .cmdline = "console=ttyS0", .timeout_sec = 900 };
	static struct vm vm;
	struct vm_err err = { "" };
	pthread_t t;
	if (vm_create(&vm, &cfg, &err) < 0 || vm_boot(&vm, &err) < 0) {
		fprintf(stderr, "vmgenid-live: %s\n", err.msg);
		return 1;
	}
	if (pthread_create(&t, NULL, run_vm, &vm)) {
		fprintf(stderr, "vmgenid-live: pthread_create failed\n");
		return 1;
	}
	int rc = check(&vm);
	vm_request_stop(&vm, rc ? VM_ERROR : VM_POWEROFF, "vmgenid-live is done");
	pthread_join(t, NULL);
	vm_destroy(&vm);
	return rc;
}
