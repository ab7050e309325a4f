# evident - build, test and run.  See README.md.
#
#   make              build build/evident (gcc by default)
#   make check        install dependencies, build, run every test (plain and
#                     sanitizer builds, fuzz smoke runs); ends "N passed, N failed"
#   make run          install dependencies, build, start evident on ./evident-data
#                     (make run ARGS=--demo: with sample alerts and an incident)
#   make SAN=1 BUILD=build-asan CC=clang   the ASan+UBSan build
#   make fuzz         build the libFuzzer targets and run each for a while

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := sqlite3 libzstd libcrypto jansson yaml-0.1 libpcre2-8 libmicrohttpd libcurl libarchive

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wno-unused-parameter -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all tests check run fuzz clean deps lint
all: $(BUILD)/evident

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libevident.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Objects are linked directly, not through the archive, so that weakly
# referenced commands and projectors are always picked up (see projectors.c).
$(BUILD)/evident: $(CLI_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB_OBJ) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

tests: all $(UNIT_BIN)

deps:
	scripts/install-deps

check: deps
	scripts/check

run: deps
	$(MAKE) all
	scripts/run $(ARGS)

# libFuzzer targets: clang only, each linked against an ASan build of the library.
FUZZ_BUILD := build-fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SAN=1 CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libevident.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(FUZZ_BUILD)/fuzz/$$n $$f $(FUZZ_BUILD)/libevident.a $(LDLIBS) || exit 1; done
	scripts/fuzz $(FUZZ_BUILD)/fuzz $${FUZZ_SECONDS:-60}

lint:
	cppcheck --quiet --enable=warning,portability --std=c11 -Isrc --include=/usr/include/jansson.h \
		--suppress=missingIncludeSystem --error-exitcode=1 src

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
