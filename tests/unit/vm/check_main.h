/* check_main.h - shared main() for the VMM unit tests (libcheck). */
#ifndef SM_TEST_CHECK_MAIN_H
#define SM_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CHECK_MAIN(suite_fn)                                    \
	int main(void)                                          \
	{                                                       \
		SRunner *sr = srunner_create(suite_fn());       \
		srunner_set_fork_status(sr, CK_NOFORK);         \
		srunner_run_all(sr, CK_NORMAL);                 \
		int failed = srunner_ntests_failed(sr);         \
		srunner_free(sr);                               \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;    \
	}

#endif
