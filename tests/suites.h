/* tests/suites.h — one Check suite per module. */
#ifndef TCAT_TESTS_SUITES_H
#define TCAT_TESTS_SUITES_H

#include <check.h>

Suite *normalize_suite(void);
Suite *segment_suite(void);
Suite *tokenizer_suite(void);
Suite *pretokenize_suite(void);
Suite *config_suite(void);
Suite *linereader_suite(void);
Suite *reader_suite(void);
Suite *metrics_suite(void);
Suite *modelfile_suite(void);
Suite *core_suite(void);
Suite *corpus_suite(void);
Suite *split_suite(void);
Suite *features_suite(void);
Suite *learners_suite(void);
Suite *linear_suite(void);
Suite *model_suite(void);
Suite *stack_suite(void);
Suite *search_suite(void);
Suite *fasttext_suite(void);
Suite *embeddings_suite(void);

Suite *subword_suite(void);
Suite *layers_suite(void);
Suite *recurrent_suite(void);
Suite *conv_suite(void);
Suite *neural_suite(void);
Suite *bag_suite(void);
Suite *multilabel_suite(void);

#endif
