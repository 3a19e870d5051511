# tcat — an AutoML text classifier in C. See README.md.
#
#   make            the tcat binary and libtcat.a (installs missing Debian
#                   packages first, through scripts/install-deps.sh)
#   make check      unit tests, command-line tests, then both again under
#                   AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       tcat's main job end to end: builds a language-identification
#                   corpus from Debian's fortunes packages, trains, evaluates,
#                   and classifies a few lines through a pipe
#   make bench      the benchmarks of bench/ (needs ../shared/corpora)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Libraries, found through pkg-config (build/config.mk is written once the
# packages are installed). OpenBLAS is Debian's single-threaded build, taken
# from its own directory and found again at run time through an rpath: tcat
# splits work across threads itself (core/parallel.h), and the threaded
# build starts spinning workers when the library loads, which also hang at
# exit when memory is capped (ulimit -v).
PKGS     = icu-uc icu-i18n libutf8proc libpcre2-8 jansson libxxhash
BLASDIR  = /usr/lib/$$($(CC) -print-multiarch)/openblas-serial

ifeq ($(filter clean distclean deps,$(MAKECMDGOALS)),)
-include build/config.mk
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) -I. $(DEP_CFLAGS) $(CFLAGS)
LIBS       = $(DEP_LIBS) -pthread -lm

LIB_SRC  = $(wildcard core/*.c tokenizer/*.c corpora/*.c embeddings/*.c pipelines/*.c search/*.c model/*.c)
GEN_SRC  = build/gen/default_patterns.c build/gen/default_space.c
CLI_SRC  = $(wildcard cli/*.c)
TEST_SRC = $(wildcard tests/*.c)
HEADERS  = $(wildcard core/*.h tokenizer/*.h corpora/*.h embeddings/*.h pipelines/*.h search/*.h model/*.h)

obj  = $(patsubst %.c,build/obj/%.o,$(1))
aobj = $(patsubst %.c,build/asan/%.o,$(1))

.PHONY: all deps check check-unit check-cli check-asan demo bench install uninstall clean
all: tcat libtcat.a

deps:
	sh scripts/install-deps.sh

build/config.mk: scripts/install-deps.sh
	sh scripts/install-deps.sh
	@mkdir -p build
	@{ echo "DEP_CFLAGS = $$(pkg-config --cflags $(PKGS)) $$(PKG_CONFIG_PATH=$(BLASDIR)/pkgconfig pkg-config --cflags openblas)"; \
	   echo "DEP_LIBS = $$(pkg-config --libs $(PKGS)) $$(PKG_CONFIG_PATH=$(BLASDIR)/pkgconfig pkg-config --libs openblas) -Wl,-rpath,$(BLASDIR)"; \
	   echo "CHECK_CFLAGS = $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS = $$(pkg-config --libs check)"; } > $@.tmp && mv $@.tmp $@

build/gen/default_patterns.c: tokenizer/patterns.tsv scripts/embed.awk
	@mkdir -p $(dir $@)
	awk -v name=tcat_default_patterns -f scripts/embed.awk $< > $@.tmp && mv $@.tmp $@

build/gen/default_space.c: search/space.json scripts/embed.awk
	@mkdir -p $(dir $@)
	awk -v name=tcat_default_space -f scripts/embed.awk $< > $@.tmp && mv $@.tmp $@

# The optimisers' element-wise loops (sqrt, divide) are a seventh of CNN
# training: vectorised at -O3 without errno-setting sqrt.
build/obj/embeddings/optim.o build/asan/embeddings/optim.o: CFLAGS += -O3 -fno-math-errno

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -MMD -MP -c $< -o $@

build/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

build/asan/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -O1 $(SAN) -MMD -MP -c $< -o $@

libtcat.a: $(call obj,$(LIB_SRC) $(GEN_SRC))
	rm -f $@
	ar rcs $@ $^

tcat: $(call obj,$(CLI_SRC)) libtcat.a build/config.mk
	$(CC) $(CFLAGS) -o $@ $(call obj,$(CLI_SRC)) libtcat.a $(LIBS)

build/check_tcat: $(call obj,$(TEST_SRC)) libtcat.a build/config.mk
	$(CC) $(CFLAGS) -o $@ $(call obj,$(TEST_SRC)) libtcat.a $(CHECK_LIBS) $(LIBS)

build/bench/nnbench: build/obj/bench/neural/nnbench.o libtcat.a build/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ build/obj/bench/neural/nnbench.o libtcat.a $(LIBS)

build/asan/libtcat.a: $(call aobj,$(LIB_SRC) $(GEN_SRC))
	rm -f $@
	ar rcs $@ $^

build/asan/tcat: $(call aobj,$(CLI_SRC)) build/asan/libtcat.a build/config.mk
	$(CC) $(CFLAGS) $(SAN) -o $@ $(call aobj,$(CLI_SRC)) build/asan/libtcat.a $(LIBS)

build/asan/check_tcat: $(call aobj,$(TEST_SRC)) build/asan/libtcat.a build/config.mk
	$(CC) $(CFLAGS) $(SAN) -o $@ $(call aobj,$(TEST_SRC)) build/asan/libtcat.a $(CHECK_LIBS) $(LIBS)

# ---- tests ------------------------------------------------------------------

export ASAN_OPTIONS  = detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1

check: check-unit check-cli check-asan

check-unit: build/check_tcat
	./build/check_tcat

check-cli: tcat
	sh tests/cli.sh ./tcat
	sh tests/cli_model.sh ./tcat
	sh tests/cli_vocab.sh ./tcat

check-asan: build/asan/check_tcat build/asan/tcat
	./build/asan/check_tcat
	TCAT_SANITIZED=1 sh tests/cli.sh ./build/asan/tcat
	TCAT_SANITIZED=1 sh tests/cli_model.sh ./build/asan/tcat
	TCAT_SANITIZED=1 sh tests/cli_vocab.sh ./build/asan/tcat

# ---- the main job, benchmarks, install --------------------------------------

demo: tcat
	sh scripts/demo.sh ./tcat

bench: tcat
	sh bench/tokenize/run
	sh bench/subword/run
	sh bench/fasttext/run
	sh bench/compare/run
	sh bench/neural/run
	sh bench/multilabel/run

install: tcat libtcat.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/tcat
	install -m 755 tcat $(DESTDIR)$(PREFIX)/bin/tcat
	install -m 644 libtcat.a $(DESTDIR)$(PREFIX)/lib/libtcat.a
	for h in $(HEADERS); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/tcat/$$h; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tcat $(DESTDIR)$(PREFIX)/lib/libtcat.a
	rm -rf $(DESTDIR)$(PREFIX)/include/tcat

clean:
	rm -rf build tcat libtcat.a

-include $(shell find build -name '*.d' 2>/dev/null)
