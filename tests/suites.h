/* tests/suites.h — one Check suite per module. */
#ifndef TCAT_TESTS_SUITES_H
#define TCAT_TESTS_SUITES_H

#include <check.h>

Suite *normalize_suite(void);
Suite *segment_suite(void);
Suite *tokenizer_suite(void);

#endif
