# lazyfault: `make` builds build/lazyfault and build/liblazyfault.so.
# `make demo`, `make test`, `make bench`, `make fuzz`, `make debug`,
# `make install`, `make uninstall` (both with PREFIX and DESTDIR).

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration
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
# -ftls-model=initial-exec so that reaching a thread-local never goes through
# __tls_get_addr, which may call malloc (our wrappers run inside malloc
# itself); -z now binds every symbol at load time, so that
# a helper thread never enters the loader's lazy resolver (and its lock) at
# its first call of a function.  The debug library is the same sources with
# LF_DEBUG (the library's assertions) at -O1.
LIB_FLAGS := -fPIC -shared -fvisibility=hidden -ftls-model=initial-exec -Ipreload \
	-Wl,-z,defs -Wl,-z,now
$(B)/debug/liblazyfault.so: LIB_DEBUG := -DLF_DEBUG -O1 -g

$(B)/liblazyfault.so $(B)/debug/liblazyfault.so: $(PRELOAD_SRC) $(COMMON_LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) $(LIB_DEBUG) $(LIB_FLAGS) -o $@ $(PRELOAD_SRC) $(COMMON_LIB_SRC) \
		-linih -lelf -ldl -lpthread

debug: $(B)/debug/liblazyfault.so

# The command finds the library relative to its own executable (see
# injector/locate.c): no install path is compiled in, so `make install`
# copies the very binary that `make` built.
$(B)/lazyfault: $(INJECTOR_SRC) $(COMMON_CMD_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) -Iinjector -o $@ $(INJECTOR_SRC) $(COMMON_CMD_SRC) -linih -lelf -ljson-c -lz -lm

deps:
	@tests/install-deps.sh

include tests/tests.mk
include bench/bench.mk
include tests/fuzz/fuzz.mk

demo: deps all
	@examples/demo.sh

# What `make install` puts where; `make uninstall` removes exactly these
# files, then the directories that are ours alone if they are left empty.
BINDIR = $(DESTDIR)$(PREFIX)/bin
LIBDIR = $(DESTDIR)$(PREFIX)/lib/lazyfault
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1
MAN5DIR = $(DESTDIR)$(PREFIX)/share/man/man5
DATADIR = $(DESTDIR)$(PREFIX)/share/lazyfault
EXAMPLES := $(wildcard examples/*.ini examples/*.c)
INSTALLED = $(BINDIR)/lazyfault $(LIBDIR)/liblazyfault.so $(MAN1DIR)/lazyfault.1 \
	$(MAN5DIR)/lazyfault.ini.5 $(MAN5DIR)/lazyfault-trace.5 $(addprefix $(DATADIR)/,$(EXAMPLES))

install: all
	install -d $(BINDIR) $(LIBDIR) $(MAN1DIR) $(MAN5DIR) $(DATADIR)/examples
	install -m 755 $(B)/lazyfault $(BINDIR)/lazyfault
	install -m 755 $(B)/liblazyfault.so $(LIBDIR)/liblazyfault.so
	install -m 644 man/lazyfault.1 $(MAN1DIR)/lazyfault.1
	install -m 644 man/lazyfault.ini.5 $(MAN5DIR)/lazyfault.ini.5
	install -m 644 man/lazyfault-trace.5 $(MAN5DIR)/lazyfault-trace.5
	install -m 644 $(EXAMPLES) $(DATADIR)/examples/

uninstall:
	rm -f $(INSTALLED)
	for d in $(DATADIR)/examples $(DATADIR) $(LIBDIR); do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; done

clean:
	rm -rf $(B)

.PHONY: all debug deps demo install uninstall clean
