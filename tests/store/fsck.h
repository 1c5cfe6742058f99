/* fsck.h - store consistency check used by the store tests. */
#ifndef SM_TEST_FSCK_H
#define SM_TEST_FSCK_H

/* Prints each problem found in store dir to stderr; 0 when consistent. */
int sm_test_fsck(const char *dir);

#endif
