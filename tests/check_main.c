/* tests/check_main.c — runs every Check suite of tcat. */
#include <check.h>
#include <stdlib.h>

#include "tests/suites.h"

int main(void)
{
    SRunner *sr = srunner_create(normalize_suite());
    srunner_add_suite(sr, segment_suite());
    srunner_add_suite(sr, pretokenize_suite());
    srunner_add_suite(sr, tokenizer_suite());
    srunner_add_suite(sr, config_suite());
    srunner_add_suite(sr, linereader_suite());
    srunner_add_suite(sr, reader_suite());
    srunner_add_suite(sr, metrics_suite());
    srunner_add_suite(sr, modelfile_suite());
    srunner_add_suite(sr, core_suite());
    srunner_add_suite(sr, corpus_suite());
    srunner_add_suite(sr, split_suite());
    srunner_add_suite(sr, features_suite());
    srunner_add_suite(sr, learners_suite());
    srunner_add_suite(sr, linear_suite());
    srunner_add_suite(sr, model_suite());
    srunner_add_suite(sr, stack_suite());
    srunner_add_suite(sr, search_suite());
    srunner_add_suite(sr, fasttext_suite());
    srunner_add_suite(sr, embeddings_suite());
    srunner_add_suite(sr, subword_suite());
    srunner_add_suite(sr, layers_suite());
    srunner_add_suite(sr, recurrent_suite());
    srunner_add_suite(sr, conv_suite());
    srunner_add_suite(sr, neural_suite());
    srunner_add_suite(sr, bag_suite());
    srunner_add_suite(sr, multilabel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
