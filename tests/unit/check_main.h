/* check_main.h - the end of every libcheck test's main(): run the suite,
 * exit 0 when every test passed. Shared by tests/unit/ and tests/store/. */
#ifndef SM_TEST_CHECK_MAIN_H
#define SM_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* fork: CK_FORK_GETENV (libcheck's default: fork per test unless
 * CK_FORK=no) or CK_NOFORK. Output follows CK_VERBOSITY (normal). */
static inline int check_run(Suite *s, enum fork_status fork)
{
	SRunner *sr = srunner_create(s);
	if (fork != CK_FORK_GETENV)
		srunner_set_fork_status(sr, fork);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A whole main() for a file whose suite_fn() builds its suite. */
#define CHECK_MAIN(suite_fn)                                    \
	int main(void)                                          \
	{                                                       \
		return check_run(suite_fn(), CK_NOFORK);        \
	}

#endif
