# postdesk — one non-recursive Makefile.
#
#   make run      start the whole stack in the foreground (Ctrl-C stops it)
#   make demo     the stack against a fake Microsoft cloud, with mail arriving
#   make test     install what is missing, build, run every test (ASan+UBSan)
#
# Release objects go to build/, sanitizer objects to build/san/.

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(PREFIX)/bin
LIBEXEC   = $(PREFIX)/lib/postdesk
DATADIR   = $(PREFIX)/share/postdesk
SYSCONF  ?= /etc/postdesk

CC       ?= cc
SANCC    ?= clang
PKGS      = libmariadb jansson libsodium libcurl fcgi
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CSTD   = -std=c11 -D_DEFAULT_SOURCE
WARN   = -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wstrict-prototypes \
         -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla \
         -Wnull-dereference -Wimplicit-fallthrough
WERROR ?= -Werror
HARDEN = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARD = -pie -Wl,-z,relro,-z,now
SAN    = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
         -fno-omit-frame-pointer

CPPFLAGS += -Ilib $(PKG_CFLAGS)
CFLAGS   ?= -g
ALLCFLAGS = $(CSTD) $(WARN) $(WERROR) $(CFLAGS) -MMD -MP

# --- sources -----------------------------------------------------------
LIB_SRC  = $(sort $(wildcard lib/*/*.c))
API_SRC  = cgi-bin/api.c $(sort $(wildcard cgi-bin/api_*.c))
OAUTH_SRC = cgi-bin/oauth.c
ADMIN_SRC = bin/admin.c
SCAN_SRC = bin/scan.c
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))

PROGS = postdesk-api postdesk-oauth postdesk-admin postdesk-scan

obj     = $(patsubst %.c,build/obj/%.o,$(1))
sanobj  = $(patsubst %.c,build/san/obj/%.o,$(1))

BIN      = $(addprefix build/,$(PROGS))
SANBIN   = $(addprefix build/san/,$(PROGS))
UNITBIN  = $(patsubst tests/unit/%.c,build/san/unit/%,$(UNIT_SRC))

.PHONY: all san deps run demo start stop status test test-unit test-integration \
        test-browser test-san bench check check-layers check-portal check-banned \
        cppcheck format format-check \
        install migrate clean fuzz fuzz-long soak hostile-triage
all: $(BIN)
san: $(SANBIN)

build/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(HARDEN) -c -o $@ $<

build/san/obj/%.o: %.c
	@mkdir -p $(@D)
	$(SANCC) $(CPPFLAGS) $(ALLCFLAGS) $(SAN) -c -o $@ $<

build/postdesk-api: $(call obj,$(API_SRC) $(LIB_SRC)) build/obj/gen/openapi.o
build/postdesk-oauth: $(call obj,$(OAUTH_SRC) $(LIB_SRC))
build/postdesk-admin: $(call obj,$(ADMIN_SRC) $(LIB_SRC))
build/postdesk-scan: $(call obj,$(SCAN_SRC) $(LIB_SRC))
$(BIN):
	$(CC) $(LDHARD) -o $@ $^ $(PKG_LIBS)

build/san/postdesk-api: $(call sanobj,$(API_SRC) $(LIB_SRC)) build/san/obj/gen/openapi.o
build/san/postdesk-oauth: $(call sanobj,$(OAUTH_SRC) $(LIB_SRC))
build/san/postdesk-admin: $(call sanobj,$(ADMIN_SRC) $(LIB_SRC))
build/san/postdesk-scan: $(call sanobj,$(SCAN_SRC) $(LIB_SRC))
$(SANBIN):
	$(SANCC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/san/unit/%: build/san/obj/tests/unit/%.o $(call sanobj,$(LIB_SRC))
	@mkdir -p $(@D)
	$(SANCC) $(SAN) -o $@ $^ $(PKG_LIBS)

# docs/openapi.json is embedded in postdesk-api as a byte array.
build/gen/openapi.c: docs/openapi.json
	@mkdir -p $(@D)
	{ echo '#include "api.h"'; \
	  echo 'const unsigned char openapi_json[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const unsigned long openapi_json_len = sizeof openapi_json;'; \
	} > $@.tmp && mv $@.tmp $@
build/obj/gen/openapi.o: build/gen/openapi.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icgi-bin $(ALLCFLAGS) $(HARDEN) -c -o $@ $<
build/san/obj/gen/openapi.o: build/gen/openapi.c
	@mkdir -p $(@D)
	$(SANCC) $(CPPFLAGS) -Icgi-bin $(ALLCFLAGS) $(SAN) -c -o $@ $<

-include $(shell find build -name '*.d' 2>/dev/null)

# --- the stack ---------------------------------------------------------
deps:
	@scripts/deps.sh

# Build in a second make, after deps: pkg-config's flags are read when a
# Makefile is parsed, and on a fresh machine the libraries arrive with deps.
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh run

# The stack against the fake Microsoft cloud, a connected demo mailbox and
# made-up mail every few seconds, in var/demo (scripts/demo.sh).
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

start: deps
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

status:
	@scripts/stack.sh status

migrate: all
	build/postdesk-admin migrate

# --- tests ---------------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all san $(UNITBIN)
	@$(MAKE) --no-print-directory test-unit test-integration test-browser
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

test-san: test

test-unit: $(UNITBIN)
	@scripts/run-unit.sh $(UNITBIN)

test-integration: all san
	POSTDESK_BIN=$(CURDIR)/build/san /usr/bin/python3 -m pytest -q tests/integration

test-browser: all san
	POSTDESK_BIN=$(CURDIR)/build/san /usr/bin/python3 -m pytest -q tests/browser

# The randomised hostile-mail test with 100,000 messages (not in make test);
# POSTDESK_SEED=N replays a seed.
POSTDESK_HOSTILE_COUNT ?= 100000
soak: all san
	POSTDESK_BIN=$(CURDIR)/build/san POSTDESK_HOSTILE_COUNT=$(POSTDESK_HOSTILE_COUNT) \
	    /usr/bin/python3 -m pytest -q -s tests/integration/test_hostile_random.py

# Each hostile-mail case alone in its own Inbox, one test per case (-k CASE).
hostile-triage: all san
	POSTDESK_BIN=$(CURDIR)/build/san /usr/bin/python3 -m pytest -q \
	    tests/integration/triage_hostile.py $(if $(K),-k '$(K)')

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.sh

# libFuzzer, one target per parser that mail bytes reach
# (tests/fuzz/fuzz_<t>.c); each links only the lib files it needs, listed
# in FUZZ_LIB_<t>.  Seeds stay in tests/fuzz/corpus/<t>, new inputs go to
# build/fuzz/corpus/<t>; a crash fails the run with its stack trace and
# leaves build/fuzz/<t>/crash-*.  make fuzz runs every target FUZZ_SECONDS;
# make fuzz-long runs each for 15 minutes with two workers.
FUZZ_SECONDS  ?= 10
FUZZ_TARGETS   = msg headers mime attach rules
FUZZ_BIN       = $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_BASE      = lib/base/buf.c lib/base/utf8.c lib/base/xmalloc.c lib/base/err.c
FUZZ_LIB_msg     = lib/mail/msg.c lib/mail/threading.c lib/mail/autoreply.c lib/adapt/jsonx.c
FUZZ_LIB_headers = lib/mail/mime.c lib/adapt/cred.c lib/mail/msg.c lib/mail/threading.c lib/mail/autoreply.c
FUZZ_LIB_mime    = lib/mail/mime.c lib/adapt/cred.c
FUZZ_LIB_attach  = lib/mail/attach.c lib/adapt/jsonx.c lib/mail/mime.c lib/adapt/cred.c
FUZZ_LIB_rules   = lib/domain/rules.c lib/domain/rules_json.c lib/adapt/jsonx.c lib/mail/msg.c \
                   lib/base/log.c
FUZZ_CFLAGS = $(CSTD) $(WARN) $(WERROR) -g -O1 \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIBS  := $(shell pkg-config --libs jansson libsodium 2>/dev/null)

.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_LIB_$$*) $(FUZZ_BASE) \
                   $(wildcard lib/*/*.h tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(SANCC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ \
	    $(filter %.c,$^) $(FUZZ_LIBS)

fuzz: $(FUZZ_BIN)
	@scripts/fuzz.sh $(FUZZ_SECONDS) 1 $(FUZZ_TARGETS)

fuzz-long: $(FUZZ_BIN)
	@scripts/fuzz.sh 900 2 $(FUZZ_TARGETS)

# --- quality -----------------------------------------------------------------
C_FILES = $(shell find lib cgi-bin bin tests/unit tests/fuzz -name '*.[ch]' 2>/dev/null)

format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run --Werror $(C_FILES)

check-layers:
	@scripts/check-layers.sh

# No function in the portal's scripts over 80 lines.
check-portal:
	@/usr/bin/python3 scripts/check_portal_functions.py

# make check: the static checks first (quick, and they need no stack), then
# the whole of make test — so .ci/run runs make check alone, and every test
# runs once. deps first: clang-format and cppcheck come with it.
check: deps
	@$(MAKE) --no-print-directory format-check check-layers check-portal \
	    check-banned cppcheck
	@$(MAKE) --no-print-directory test

check-banned:
	@! grep -nE '\<(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|system|popen|mysql_query|mysql_real_escape_string)[[:space:]]*\(' \
	    $(C_FILES) || { echo "banned function used" >&2; exit 1; }

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -Ilib lib cgi-bin bin

# --- install -----------------------------------------------------------
# The production snippet's placeholders (nginx/postdesk-snippet.conf.in; the
# local stack renders the same file with its own, scripts/stack.sh).
NGINX_PROD = RUN=/run/postdesk PORTAL_ROOT=$(DATADIR)/portal \
             HEADERS=/etc/nginx/snippets/postdesk-headers.conf

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(DATADIR)/sql \
	    $(DESTDIR)$(DATADIR)/portal $(DESTDIR)$(SYSCONF) \
	    $(DESTDIR)/etc/nginx/snippets $(DESTDIR)/etc/cron.d
	install -m 0755 build/postdesk-admin build/postdesk-scan $(DESTDIR)$(BINDIR)/
	install -m 0755 build/postdesk-api build/postdesk-oauth $(DESTDIR)$(LIBEXEC)/
	install -m 0644 sql/*.sql $(DESTDIR)$(DATADIR)/sql/
	cp -R nginx/portal/. $(DESTDIR)$(DATADIR)/portal/
	scripts/render-nginx.sh nginx/postdesk-snippet.conf.in \
	    $(DESTDIR)/etc/nginx/snippets/postdesk.conf $(NGINX_PROD)
	chmod 0644 $(DESTDIR)/etc/nginx/snippets/postdesk.conf
	install -m 0644 nginx/postdesk-headers.conf $(DESTDIR)/etc/nginx/snippets/
	install -m 0644 scripts/postdesk.cron $(DESTDIR)/etc/cron.d/postdesk
	install -m 0644 postdesk.conf.example $(DESTDIR)$(SYSCONF)/postdesk.conf.example

clean:
	rm -rf build
