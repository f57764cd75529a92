# grader: one non-recursive Makefile.
#   make            build build/grader
#   make check      install missing Debian packages (as root), build with
#                   ASan+UBSan, run cmocka unit tests and end-to-end tests
#   make demo       grade the bundled demo course
#   make serve-demo run `grader serve` on the demo course (127.0.0.1:8080)
#   make install    PREFIX=/usr/local DESTDIR=
.SUFFIXES:

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
SANITIZE ?=
CC       = cc
VERSION  := 0.1.0

# Libraries are found through pkg-config only; evaluated lazily so that
# `make deps` can install them first.
PKGS      = libgit2 libseccomp jansson libarchive python3-embed sqlite3 libcrypto libutf8proc glib-2.0 \
	libmicrohttpd libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm
TEST_LIBS  = $(shell pkg-config --libs cmocka)

# Debian 12 packages needed to build, test and run the demo.
DEB_PKGS = build-essential pkg-config git zip unzip \
	libgit2-dev libseccomp-dev libjansson-dev libarchive-dev \
	libsqlite3-dev libssl-dev libcmocka-dev python3-dev python3-numpy python3-pandas python3-scipy \
	python3-matplotlib python3-jsonschema python3-ipython \
	p7zip-full sqlite3 procps bc xz-utils bzip2 chromium libutf8proc-dev libglib2.0-dev tzdata \
	libmicrohttpd-dev libcurl4-openssl-dev curl clang-format strace
# What the real nbgrader (../shared/nbgrader, the tests' oracle) runs on.
DEB_PKGS += python3-nbformat python3-nbclient python3-ipykernel jupyter-nbconvert \
	python3-sqlalchemy python3-alembic python3-dateutil python3-jupyter-server \
	python3-jinja2 python3-yaml python3-requests
# A real single-node Slurm cluster for tests/e2e/test_slurm.sh (docs/deploy).
DEB_PKGS += slurm-wlm slurm-client munge

WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ifneq ($(SANITIZE),)
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT = -O1 -g
HARDEN = -fstack-protector-strong -fPIE
else
OPT = -O2 -g
endif
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) \
	-Iinclude -DGRADER_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

# Link order: base (errors, clock) <- sandbox <- grader <- cli. libsandbox.a
# carries base, so a program links with libsandbox.a alone (tests/sandbox_alone.c).
BASE_SRC := $(wildcard sandbox/base/*.c)
SBX_SRC  := $(wildcard sandbox/*.c) $(BASE_SRC)
LIB_SRC  := $(wildcard grader/*.c)
CLI_SRC  := $(wildcard grader/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
HOSTILE_SRC := $(wildcard tests/hostile/*.c)

SBX_OBJ  := $(SBX_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/kernel_helper.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)
HOSTILE_BIN := $(HOSTILE_SRC:%.c=$(BUILD)/%)

.PHONY: all check demo serve-demo install clean deps tests format format-check
all: $(BUILD)/grader

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(CFLAGS_ALL) -c $< -o $@

# The kernel's Python helper, embedded as one C string of \xNN escapes
# (od is in coreutils): the binary installs no .py file.
$(BUILD)/gen/kernel_helper.c: grader/kernel_helper.py
	@mkdir -p $(dir $@)
	@echo "  GEN $@"; { \
	  echo '/* generated from $< by the Makefile; do not edit */'; \
	  echo 'const char kernel_py_source[] ='; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g; s/.*/"&"/'; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/kernel_helper.o: $(BUILD)/gen/kernel_helper.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libsandbox.a: $(SBX_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libgrader.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# The lean zygote (grader/kernel_spawn.c): the engine, the sandbox and CPython
# without the grader's other libraries, embedded in the grader binary.
ZYG_LIBS = $(shell pkg-config --libs python3-embed jansson libcrypto libseccomp libutf8proc) -lm
$(BUILD)/grader-zygote: $(BUILD)/obj/grader/zygote/main.o $(BUILD)/libgrader.a $(BUILD)/libsandbox.a
	$(CC) $(LDFLAGS_ALL) -Wl,--as-needed -o $@ $^ $(ZYG_LIBS)
$(BUILD)/obj/gen/zygote_image.o: $(BUILD)/grader-zygote
	@mkdir -p $(dir $@) $(BUILD)/gen
	objcopy --strip-debug $< $(BUILD)/gen/grader-zygote.img
	printf '%s\n' '.section .rodata' '.balign 16' '.globl kernel_zygote_image' \
	  '.globl kernel_zygote_image_end' 'kernel_zygote_image:' \
	  '.incbin "$(BUILD)/gen/grader-zygote.img"' 'kernel_zygote_image_end:' \
	  '.section .note.GNU-stack,"",@progbits' > $(BUILD)/gen/zygote_image.s
	$(CC) -c -o $@ $(BUILD)/gen/zygote_image.s
$(BUILD)/grader: $(CLI_OBJ) $(BUILD)/obj/gen/zygote_image.o $(BUILD)/libgrader.a \
		$(BUILD)/libsandbox.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/test_%: tests/test_%.c $(BUILD)/libgrader.a $(BUILD)/libsandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(filter %.c %.a,$^) $(PKG_LIBS) $(TEST_LIBS)

# The sandbox links alone: only libsandbox.a and its own system libraries.
$(BUILD)/tests/sandbox_alone: tests/sandbox_alone.c $(BUILD)/libsandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs libseccomp jansson)

# Hostile programs are plain, unsanitized binaries: they are the attackers.
$(BUILD)/tests/hostile/%: tests/hostile/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -w -o $@ $< -lpthread

tests: $(BUILD)/grader $(TEST_BIN) $(HOSTILE_BIN) $(BUILD)/tests/sandbox_alone

# Install what is missing from Debian's archive; only root can, others are told.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:" $$missing; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages (run as root or: sudo apt-get install" $$missing")"; exit 1; \
	  fi; \
	fi

# Everything under ASan+UBSan; the sandbox's unit tests also in a plain build,
# for what ASan's own allocator cannot show (fork-safety of glibc malloc).
check: deps format-check
	PYTHONPYCACHEPREFIX=$(CURDIR)/build/check/pycache python3 -m py_compile grader/kernel_helper.py
	$(MAKE) --no-print-directory BUILD=build/check SANITIZE=address,undefined tests
	$(MAKE) --no-print-directory BUILD=build/plain build/plain/tests/test_sandbox
	BUILD=build/check PLAIN_TESTS=build/plain/tests/test_sandbox sh tests/run.sh

# Every C file as .clang-format lays it out; `make format` rewrites them.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find grader sandbox include tests bench -name '*.[ch]')

format-check: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files laid out as .clang-format says"

format:
	clang-format -i $(FORMAT_FILES)

demo: deps
	$(MAKE) --no-print-directory all
	sh rubrics/examples/demo.sh $(BUILD)/grader

serve-demo: deps
	$(MAKE) --no-print-directory all
	sh rubrics/examples/serve-demo.sh $(BUILD)/grader

install: $(BUILD)/grader
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/grader $(DESTDIR)$(PREFIX)/bin/grader

clean:
	rm -rf build

-include $(SBX_OBJ:.o=.d) $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) \
	$(BUILD)/obj/grader/zygote/main.d
