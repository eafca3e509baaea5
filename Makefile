# lazyfault: `make` builds build/lazyfault and build/liblazyfault.so.
# `make demo`, `make test`, `make bench`, `make fuzz`, `make install`.

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter
BASE := -std=gnu11 -D_GNU_SOURCE -DLF_VERSION='"$(VERSION)"' -Icommon $(WARN)
B := build

# common/: the library links the parser, the command also the printer of
# `lazyfault check`, the tests (tests.mk) all of it.
COMMON_SRC := $(wildcard common/*.c)
COMMON_LIB_SRC := $(filter-out common/rules_print.c common/rules_compare.c,$(COMMON_SRC))
COMMON_CMD_SRC := $(COMMON_LIB_SRC) common/rules_print.c
PRELOAD_SRC := $(wildcard preload/*.c)
INJECTOR_SRC := $(wildcard injector/*.c)
HDRS := $(wildcard common/*.h common/*.def preload/*.h injector/*.h)

all: $(B)/liblazyfault.so $(B)/lazyfault

# The library: -fvisibility=hidden keeps everything but the wrappers private;
# -ftls-model=initial-exec so that thread-locals never allocate (KERNEL-NOTES).
$(B)/liblazyfault.so: $(PRELOAD_SRC) $(COMMON_LIB_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(CFLAGS) -fPIC -shared -fvisibility=hidden -ftls-model=initial-exec \
		-Ipreload -Wl,-z,defs -o $@ $(PRELOAD_SRC) $(COMMON_LIB_SRC) -linih -lelf -ldl -lpthread

$(B)/lazyfault: $(INJECTOR_SRC) $(COMMON_CMD_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(CFLAGS) -DLF_LIBDIR='"$(PREFIX)/lib/lazyfault"' -Iinjector \
		-o $@ $(INJECTOR_SRC) $(COMMON_CMD_SRC) -linih -lelf

$(B):
	mkdir -p $(B)

deps:
	@tests/install-deps.sh

include tests/tests.mk
include bench/bench.mk
include tests/fuzz/fuzz.mk

demo: deps all
	@examples/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lazyfault \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/lazyfault/examples
	install -m 755 $(B)/lazyfault $(DESTDIR)$(PREFIX)/bin/lazyfault
	install -m 755 $(B)/liblazyfault.so $(DESTDIR)$(PREFIX)/lib/lazyfault/liblazyfault.so
	install -m 644 man/lazyfault.1 $(DESTDIR)$(PREFIX)/share/man/man1/lazyfault.1
	install -m 644 man/lazyfault.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/lazyfault.ini.5
	install -m 644 examples/*.ini examples/*.c $(DESTDIR)$(PREFIX)/share/lazyfault/examples/

clean:
	rm -rf $(B)

.PHONY: all deps demo install clean
