/* pm_persist.c - the power-management ports' place in a snapshot.
 *
 * The sleep, reset and i8042 ports keep no state (every write is decoded on
 * the spot), so section "PMIO" version 1 is empty. It exists so that state
 * added later gets a version 2 that old snapshots still load as 1.
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "pm.h"

#define PM_TAG     SNAP_TAG('P', 'M', 'I', 'O')
#define PM_VERSION 1

void pm_save(struct snap_writer *w)
{
	snap_end(w, snap_begin(w, PM_TAG, PM_VERSION));
}

bool pm_restore(struct snap_reader *r)
{
	struct snap_reader sub;
	if (!snap_open(r, PM_TAG, PM_VERSION, &sub, NULL))
		return false;
	if (!snap_done(&sub, "PMIO section"))
		return snap_fail(r, "%s", sub.err);
	return true;
}
