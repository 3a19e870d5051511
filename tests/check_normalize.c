#include <check.h>
#include "tests/suites.h"
Suite *normalize_suite(void) { return suite_create("normalize"); }
