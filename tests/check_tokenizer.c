#include <check.h>
#include "tests/suites.h"
Suite *tokenizer_suite(void) { return suite_create("tokenizer"); }
