#include <check.h>
#include "tests/suites.h"
Suite *segment_suite(void) { return suite_create("segment"); }
